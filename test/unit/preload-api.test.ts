import { EventEmitter } from 'node:events';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { channels, events } from '../../src/shared/contract';

/** Stand-ins for the two Electron modules the preload uses; it runs against them exactly as in a window. */
const electron = vi.hoisted(() => {
  const exposed = new Map<string, unknown>();
  return {
    exposed,
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
    ipcRenderer: undefined as unknown as EventEmitter & { invoke: (channel: string, request: unknown) => Promise<unknown> },
  };
});

vi.mock('electron', () => {
  const ipcRenderer = Object.assign(new EventEmitter(), { invoke: vi.fn(async (channel: string, request: unknown) => ({ ok: true, data: { channel, request } })) });
  electron.ipcRenderer = ipcRenderer;
  return { contextBridge: electron.contextBridge, ipcRenderer };
});

type ExposedApi = Record<string, Record<string, (...args: unknown[]) => unknown>>;

/** domain → verbs, as the contract names them: `schedules:set` is `schedules.set`, `backfill:onProgress` is `backfill.onProgress`. */
function contractShape(): Record<string, string[]> {
  const shape: Record<string, string[]> = {};
  for (const name of [...Object.keys(channels), ...Object.keys(events)]) {
    const [domain, verb] = name.split(':') as [string, string];
    (shape[domain] ??= []).push(verb);
  }
  for (const verbs of Object.values(shape)) verbs.sort();
  return shape;
}

describe('the API the preload exposes to the console window', () => {
  let api: ExposedApi;

  beforeAll(async () => {
    await import('../../src/preload/index');
    api = electron.exposed.get('strata') as ExposedApi;
  });

  it('exposes one object, window.strata, and nothing else', () => {
    expect([...electron.exposed.keys()]).toEqual(['strata']);
  });

  it("has exactly the contract's channels and events as domain → verb functions, and no ipcRenderer", () => {
    const shape = Object.fromEntries(Object.entries(api).map(([domain, verbs]) => [domain, Object.keys(verbs).sort()]));
    expect(shape).toEqual(contractShape());
    for (const verbs of Object.values(api)) {
      for (const member of Object.values(verbs)) expect(typeof member).toBe('function');
    }
  });

  it("calls the verb's channel with the request and hands back the main process's answer", async () => {
    const request = { job: 'rollup-daily', cron: '15 2 * * *' };
    expect(await api.schedules!.set!(request)).toEqual({ ok: true, data: { channel: 'schedules:set', request } });
    expect(await api.cluster!.status!()).toEqual({ ok: true, data: { channel: 'cluster:status', request: {} } });
  });

  it('delivers event payloads without the IPC event, and each subscription returns its own unsubscribe', () => {
    const received: unknown[] = [];
    const unsubscribe = api.backfill!.onProgress!((payload: unknown) => received.push(payload));
    expect(typeof unsubscribe).toBe('function');
    const senderEvent = { sender: 'the ipcRenderer event, which the page must never see' };
    electron.ipcRenderer.emit('backfill:onProgress', senderEvent, { kind: 'window-finished' });
    electron.ipcRenderer.emit('retention:onProgress', senderEvent, { kind: 'not for this listener' });
    expect(received).toEqual([{ kind: 'window-finished' }]);

    (unsubscribe as () => void)();
    electron.ipcRenderer.emit('backfill:onProgress', senderEvent, { kind: 'after unsubscribe' });
    expect(received).toEqual([{ kind: 'window-finished' }]);
    expect(electron.ipcRenderer.listenerCount('backfill:onProgress')).toBe(0);
  });
});
