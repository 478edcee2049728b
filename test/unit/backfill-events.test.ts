import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { forwardEvents } from '../../src/main/ipc/handlers';
import { silentLogger } from '../../src/main/log';
import { isExpectedOrigin } from '../../src/main/webhost/access';
import type { BackfillProgress } from '../../src/shared/backfill';
import type { BackupProgress } from '../../src/shared/backup';
import type { ConversionEvent, PartitionApplyEvent } from '../../src/shared/partitions';

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

const partitionEvent: PartitionApplyEvent = {
  kind: 'shard-finished',
  shard: 1,
  shardName: 'shard1',
  result: {
    index: 1,
    name: 'shard1',
    outcome: 'blocked',
    statements: [],
    warnings: [],
    problem: { code: 8006, message: 'a backup of shard1 has been running since 2026-11-25T04:00:12Z on host db-admin-2 (pid 4121)' },
  },
};

const conversionEvent: ConversionEvent = {
  kind: 'progress',
  shard: 0,
  shardName: 'shard0',
  table: 'analytics_monthly',
  percent: 42.5,
  stage: 'copy to tmp table',
  elapsedMs: 1200,
};

/** A service's event source: what forwardEvents subscribes to, and the listeners it left subscribed. */
function eventSource<E>() {
  const listeners = new Set<(event: E) => void>();
  return { listeners, onProgress: (listener: (event: E) => void) => (listeners.add(listener), () => listeners.delete(listener)) };
}

function fakeServices() {
  const backfill = eventSource<BackfillProgress>();
  const partitions = eventSource<PartitionApplyEvent>();
  const conversion = eventSource<ConversionEvent>();
  const retention = eventSource<unknown>();
  const backupSets = eventSource<BackupProgress>();
  const backupVerify = eventSource<BackupProgress>();
  const backup = { onProgress: backupSets.onProgress, onVerifyProgress: backupVerify.onProgress };
  const cycles = eventSource<unknown>();
  const alertLists = eventSource<unknown>();
  const monitor = { onCycle: cycles.onProgress };
  const alerts = { onChange: alertLists.onProgress };
  return { backfill, partitions, conversion, retention, backupVerify, services: { backfill, partitions, conversion, retention, backup, monitor, alerts } as never };
}

describe('forwardEvents', () => {
  it('delivers each backfill progress event under its contract name, until disconnected', () => {
    const { backfill, partitions, conversion, retention, services } = fakeServices();
    const delivered: Array<[string, unknown]> = [];
    const stop = forwardEvents(services, (event, payload) => delivered.push([event, payload]), silentLogger.scope('test'));
    for (const listener of backfill.listeners) listener(progress);
    expect(delivered).toEqual([['backfill:onProgress', progress]]);
    stop();
    expect([backfill.listeners.size, partitions.listeners.size, conversion.listeners.size, retention.listeners.size]).toEqual([0, 0, 0, 0]);
  });

  it('never sends a payload that does not match the event schema', () => {
    const { backfill, services } = fakeServices();
    const delivered: unknown[] = [];
    forwardEvents(services, (_event, payload) => delivered.push(payload), silentLogger.scope('test'));
    for (const listener of backfill.listeners) listener({ ...progress, windowsDone: -1 });
    expect(delivered).toEqual([]);
  });

  it('delivers partition apply events as partitions:onProgress, and refuses a malformed one', () => {
    const { partitions, services } = fakeServices();
    const delivered: Array<[string, unknown]> = [];
    forwardEvents(services, (event, payload) => delivered.push([event, payload]), silentLogger.scope('test'));
    for (const listener of partitions.listeners) {
      listener(partitionEvent);
      listener({ ...partitionEvent, result: { ...partitionEvent.result, outcome: 'skipped' } } as never);
    }
    expect(delivered).toEqual([['partitions:onProgress', partitionEvent]]);
  });

  it('delivers table conversion events as partitions:onConvertProgress, and refuses a percent past 100', () => {
    const { conversion, services } = fakeServices();
    const delivered: Array<[string, unknown]> = [];
    forwardEvents(services, (event, payload) => delivered.push([event, payload]), silentLogger.scope('test'));
    for (const listener of conversion.listeners) {
      listener(conversionEvent);
      listener({ ...conversionEvent, percent: 140 });
    }
    expect(delivered).toEqual([['partitions:onConvertProgress', conversionEvent]]);
  });

  it('delivers a verification\'s per-part progress as backup:onVerifyProgress, until disconnected', () => {
    const { backupVerify, services } = fakeServices();
    const delivered: Array<[string, unknown]> = [];
    const stop = forwardEvents(services, (event, payload) => delivered.push([event, payload]), silentLogger.scope('test'));
    const loading: BackupProgress = {
      setId: '20261201T050000Z',
      kind: 'shard',
      state: 'running',
      shard: 1,
      shardName: 'shard1',
      bytesWritten: 4_000_000,
      dumpBytes: 11_000_000,
      tablesDone: 0,
      tablesTotal: 4,
      currentTable: null,
      rows: 0,
      mbPerSecond: 5.5,
      etaSeconds: 2,
      elapsedMs: 2000,
    };
    for (const listener of backupVerify.listeners) listener(loading);
    expect(delivered).toEqual([['backup:onVerifyProgress', loading]]);
    stop();
    expect(backupVerify.listeners.size).toBe(0);
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
