import { describe, expect, it } from 'vitest';
import { assertNoOverlap, checkRequest, type LivenessCheck } from '../../src/main/backfill/planner';
import { cancelAuditEntry, toBackfillRecord, type BackfillRow } from '../../src/main/backfill/store';
import type { BackfillRecord } from '../../src/shared/backfill';
import { ErrorCode } from '../../src/shared/errors';

const NOW = new Date('2025-06-15T12:30:00Z');

function row(overrides: Partial<BackfillRow> = {}): BackfillRow {
  return {
    id: 4,
    level: 'hourly',
    range_from: new Date('2025-06-14T00:00:00Z'),
    range_to: new Date('2025-06-14T06:00:00Z'),
    shards: '0,1',
    cascade_up: 1,
    state: 'running',
    windows_total: 8,
    windows_done: 3,
    next_window_level: 'hourly',
    next_window_start: new Date('2025-06-14T03:00:00Z'),
    rows_read: 1200,
    rows_written: 40,
    estimated_ms: 900,
    created_by: 'dba@console-1',
    host: 'agent-1',
    pid: 4242,
    created_at: new Date('2025-06-15T12:00:00Z'),
    started_at: new Date('2025-06-15T12:00:00Z'),
    updated_at: new Date('2025-06-15T12:29:50Z'),
    finished_at: null,
    error: null,
    ...overrides,
  };
}

/** Liveness as the service supplies it: nothing is asked of the operating system or the clock. */
const liveness = (alive: number[], now = NOW): LivenessCheck => ({ thisHost: 'agent-1', runningHere: new Set(), pidAlive: (pid) => alive.includes(pid), now, staleAfterMs: 60_000 });

describe('a stored backfill as a record', () => {
  it('maps every column, with the state the injected liveness gives', () => {
    const record = toBackfillRecord(row(), liveness([4242]));
    expect(record).toMatchObject({
      id: 4,
      level: 'hourly',
      from: '2025-06-14T00:00:00.000Z',
      to: '2025-06-14T06:00:00.000Z',
      shards: [0, 1],
      cascade: true,
      state: 'running',
      windowsDone: 3,
      nextWindowStart: '2025-06-14T03:00:00.000Z',
      finishedAt: null,
    });
    expect(toBackfillRecord(row(), liveness([])).state).toBe('interrupted');
  });

  it("judges another host's backfill by its heartbeat against the time the caller read it", () => {
    const elsewhere = row({ host: 'agent-2' });
    expect(toBackfillRecord(elsewhere, liveness([])).state).toBe('running');
    expect(toBackfillRecord(elsewhere, liveness([], new Date('2025-06-15T12:31:00Z'))).state).toBe('interrupted');
  });

  it('writes a cancel into the audit log with where the backfill ran and how far it came', () => {
    const record = toBackfillRecord(row(), liveness([4242]));
    const entry = cancelAuditEntry(record, { actor: 'dba@console-1', host: 'console-1', pid: 1 }, NOW, { interrupted: true });
    expect(entry).toMatchObject({ at: NOW, actor: 'dba@console-1', host: 'console-1', action: 'backfill.cancel', target: 'backfill 4' });
    expect(JSON.parse(entry.detail)).toEqual({ runsOn: 'agent-1 (pid 4242)', state: 'running', windowsDone: 3, windowsTotal: 8, interrupted: true });
  });
});

describe('admission', () => {
  const running = (overrides: Partial<BackfillRecord> = {}): BackfillRecord => ({ ...toBackfillRecord(row({ cascade_up: 0 }), liveness([4242])), ...overrides });
  const request = (from: string, to: string, shards = [0, 1]) => checkRequest({ level: 'hourly', from, to, shards }, 2);

  it('refuses a request that rewrites windows a live backfill rewrites, naming it', () => {
    expect(() => assertNoOverlap(request('2025-06-14T05:00:00Z', '2025-06-14T08:00:00Z'), [running()])).toThrow(
      expect.objectContaining({ code: ErrorCode.BackfillOverlap, message: expect.stringContaining('backfill 4 (hourly 2025-06-14T00:00:00.000Z') }),
    );
  });

  it('lets through other times, other shards, stopped backfills and the backfill being resumed', () => {
    expect(() => assertNoOverlap(request('2025-06-14T06:00:00Z', '2025-06-14T08:00:00Z'), [running()])).not.toThrow();
    expect(() => assertNoOverlap(request('2025-06-14T05:00:00Z', '2025-06-14T08:00:00Z', [1]), [running({ shards: [0] })])).not.toThrow();
    expect(() => assertNoOverlap(request('2025-06-14T05:00:00Z', '2025-06-14T08:00:00Z'), [running({ state: 'interrupted' })])).not.toThrow();
    expect(() => assertNoOverlap(request('2025-06-14T00:00:00Z', '2025-06-14T06:00:00Z'), [running()], 4)).not.toThrow();
  });
});
