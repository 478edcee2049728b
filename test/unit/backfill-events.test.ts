import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { forwardEvents } from '../../src/main/ipc/handlers';
import { silentLogger } from '../../src/main/log';
import { isExpectedOrigin } from '../../src/main/webhost/access';
import type { BackfillProgress } from '../../src/shared/backfill';

const progress: BackfillProgress = {
  backfillId: 4,
  kind: 'window-finished',
  state: 'running',
  windowsDone: 1,
  windowsTotal: 3,
  window: { level: 'hourly', windowStart: '2025-06-01T00:00:00.000Z', windowEnd: '2025-06-01T01:00:00.000Z' },
  rowsRead: 10,
  rowsWritten: 2,
  elapsedMs: 40,
  estimatedRemainingMs: 80,
};

function fakeBackfill() {
  const listeners = new Set<(event: BackfillProgress) => void>();
  return {
    listeners,
    backfill: { onProgress: (listener: (event: BackfillProgress) => void) => (listeners.add(listener), () => listeners.delete(listener)) },
  };
}

describe('forwardEvents', () => {
  it('delivers each backfill progress event under its contract name, until disconnected', () => {
    const { listeners, backfill } = fakeBackfill();
    const delivered: Array<[string, unknown]> = [];
    const stop = forwardEvents({ backfill } as never, (event, payload) => delivered.push([event, payload]), silentLogger.scope('test'));
    for (const listener of listeners) listener(progress);
    expect(delivered).toEqual([['backfill:onProgress', progress]]);
    stop();
    expect(listeners.size).toBe(0);
  });

  it('never sends a payload that does not match the event schema', () => {
    const { listeners, backfill } = fakeBackfill();
    const delivered: unknown[] = [];
    forwardEvents({ backfill } as never, (_event, payload) => delivered.push(payload), silentLogger.scope('test'));
    for (const listener of listeners) listener({ ...progress, windowsDone: -1 });
    expect(delivered).toEqual([]);
  });
});

describe('isExpectedOrigin (the event stream, authenticated by cookie alone)', () => {
  const request = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
  it('accepts same-origin requests, with or without an Origin header', () => {
    expect(isExpectedOrigin(request({}), 4000)).toBe(true);
    expect(isExpectedOrigin(request({ origin: 'http://127.0.0.1:4000', 'sec-fetch-site': 'same-origin' }), 4000)).toBe(true);
    expect(isExpectedOrigin(request({ origin: 'http://localhost:4000' }), 4000)).toBe(true);
  });

  it('refuses another origin, another port, and cross-site fetches', () => {
    expect(isExpectedOrigin(request({ origin: 'http://evil.example' }), 4000)).toBe(false);
    expect(isExpectedOrigin(request({ origin: 'http://127.0.0.1:4001' }), 4000)).toBe(false);
    expect(isExpectedOrigin(request({ 'sec-fetch-site': 'cross-site' }), 4000)).toBe(false);
    expect(isExpectedOrigin(request({ 'sec-fetch-site': 'same-site' }), 4000)).toBe(false);
  });
});
