import { describe, expect, it, vi } from 'vitest';
import { APP_INDEX_URL } from '../../src/main/electron/app-protocol';
import { registerIpcHandlers, type IpcMainHandlers, type IpcRegistrationOptions } from '../../src/main/electron/ipc';
import type { AppLocation } from '../../src/main/electron/policy';
import type { DeliverEvent, Handlers } from '../../src/main/ipc/handlers';
import { silentLogger } from '../../src/main/log';
import { channels, type ClusterStatus } from '../../src/shared/contract';
import { ErrorCode } from '../../src/shared/errors';
import type { Result } from '../../src/shared/result';

const app: AppLocation = { kind: 'app-protocol', indexUrl: APP_INDEX_URL };
const consoleUrl = `${app.indexUrl}#/cluster-overview`;

const status: ClusterStatus = {
  checkedAt: '2025-01-01T00:00:00.000Z',
  profileName: 'unit',
  healthy: true,
  warnings: [],
  shards: [],
  redis: { url: 'redis://127.0.0.1:1/0', reachable: true },
};

// Electron's own types, reached through the registration's signature (tests may not import electron).
type IpcMainInvokeEvent = Parameters<Parameters<IpcMainHandlers['handle']>[1]>[0];
type WebContents = Parameters<IpcRegistrationOptions['isKnownWindow']>[0];
type InvokeHandler = (event: IpcMainInvokeEvent, payload: unknown) => Promise<Result<unknown>>;

/** Records what is registered, the way Electron's ipcMain would, and lets the test invoke a channel. */
class StandInIpcMain implements IpcMainHandlers {
  readonly registered = new Map<string, InvokeHandler>();

  handle(channel: string, listener: InvokeHandler): void {
    if (this.registered.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    this.registered.set(channel, listener);
  }

  removeHandler(channel: string): void {
    this.registered.delete(channel);
  }

  invoke(channel: string, event: IpcMainInvokeEvent, payload: unknown): Promise<Result<unknown>> {
    const handler = this.registered.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    return handler(event, payload);
  }
}

/** A stand-in for a window's webContents: only what the registration looks at. */
function windowContents(url: string) {
  const sent: Array<{ event: string; payload: unknown }> = [];
  let destroyed = false;
  const contents = {
    getURL: () => url,
    isDestroyed: () => destroyed,
    send: (event: string, payload: unknown) => sent.push({ event, payload }),
  };
  return { contents: contents as unknown as WebContents, sent, destroy: () => (destroyed = true) };
}

/** An invoke event from `sender`'s frame at `frameUrl`; a subframe has a parent, a gone frame is null. */
function invokeEvent(sender: WebContents, frame: { url: string; isMainFrame?: boolean } | null): IpcMainInvokeEvent {
  const senderFrame = frame ? { url: frame.url, parent: frame.isMainFrame === false ? { url: consoleUrl } : null } : null;
  return { sender, senderFrame } as unknown as IpcMainInvokeEvent;
}

function setUp() {
  const ipcMain = new StandInIpcMain();
  const consoleWindow = windowContents(consoleUrl);
  const otherWindow = windowContents('https://example.com/');
  const known = [consoleWindow.contents];
  const handlers = Object.fromEntries(Object.keys(channels).map((channel) => [channel, vi.fn(async () => (channel === 'cluster:status' ? status : undefined))])) as unknown as Handlers;
  let deliver: DeliverEvent | undefined;
  const stopEvents = vi.fn();
  const registration = registerIpcHandlers({
    ipcMain,
    handlers,
    app,
    isKnownWindow: (contents) => known.includes(contents),
    knownWindows: () => known,
    forwardEvents: (transport) => {
      deliver = transport;
      return stopEvents;
    },
    log: silentLogger.scope('ipc'),
  });
  return { ipcMain, handlers, registration, consoleWindow, otherWindow, known, stopEvents, deliver: (event: Parameters<DeliverEvent>[0], payload: unknown) => deliver?.(event, payload) };
}

describe('the IPC registration in the main process', () => {
  it('registers one handler for every channel of the contract, and dispose removes them all', () => {
    const { ipcMain, registration, stopEvents } = setUp();
    expect([...ipcMain.registered.keys()].sort()).toEqual(Object.keys(channels).sort());
    registration.dispose();
    expect(ipcMain.registered.size).toBe(0);
    expect(stopEvents).toHaveBeenCalledOnce();
  });

  it("answers the console window's main frame with { ok: true, data } from the channel's handler", async () => {
    const { ipcMain, handlers, consoleWindow } = setUp();
    const result = await ipcMain.invoke('cluster:status', invokeEvent(consoleWindow.contents, { url: consoleUrl }), {});
    expect(result).toEqual({ ok: true, data: status });
    expect(handlers['cluster:status']).toHaveBeenCalledWith({});
  });

  it.each([
    ['a window this app did not create', 'other', { url: consoleUrl }],
    ['a subframe of the console window', 'console', { url: consoleUrl, isMainFrame: false }],
    ['the console window after it navigated elsewhere', 'console', { url: 'https://example.com/' }],
    ['another local file in the console window', 'console', { url: 'file:///etc/passwd' }],
    ['the built page opened from file:// instead of app://', 'console', { url: 'file:///opt/Strata/resources/app.asar/out/renderer/index.html' }],
    ['another host of the app scheme', 'console', { url: 'app://other/index.html' }],
    ['a frame that is gone', 'console', null],
  ] as const)('refuses %s with ForbiddenSender (1003) before the handler runs', async (_what, window, frame) => {
    const { ipcMain, handlers, consoleWindow, otherWindow } = setUp();
    const sender = window === 'console' ? consoleWindow.contents : otherWindow.contents;
    const result = await ipcMain.invoke('cluster:status', invokeEvent(sender, frame), {});
    expect(result).toEqual({ ok: false, code: 1003, message: 'cluster:status may only be called by the Strata console window' });
    expect(ErrorCode.ForbiddenSender).toBe(1003);
    expect(handlers['cluster:status']).not.toHaveBeenCalled();
  });

  it.each([
    ['cluster:status', { shard: 3 }, 'cluster:status'],
    ['schedules:set', 'DROP TABLE strata_schedules', 'schedules:set'],
    ['partitions:apply', {}, 'confirm'],
    ['retention:prune', { tables: ['analytics_realtime'] }, 'confirm'],
  ] as const)('refuses %s with %j from the console as InvalidInput, naming what is wrong, before the handler runs', async (channel, payload, named) => {
    const { ipcMain, handlers, consoleWindow } = setUp();
    const result = await ipcMain.invoke(channel, invokeEvent(consoleWindow.contents, { url: consoleUrl }), payload);
    expect(result).toMatchObject({ ok: false, code: ErrorCode.InvalidInput, message: expect.stringContaining(named) });
    expect(handlers[channel]).not.toHaveBeenCalled();
  });

  it('sends events only to live console windows that still show the console page', () => {
    const { deliver, consoleWindow, known } = setUp();
    const navigatedAway = windowContents('https://example.com/');
    const closed = windowContents(consoleUrl);
    known.push(navigatedAway.contents, closed.contents);
    closed.destroy();
    const progress = { kind: 'started' };
    deliver('backfill:onProgress', progress);
    expect(consoleWindow.sent).toEqual([{ event: 'backfill:onProgress', payload: progress }]);
    expect(navigatedAway.sent).toEqual([]);
    expect(closed.sent).toEqual([]);
  });
});
