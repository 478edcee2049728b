import { describe, expect, it } from 'vitest';
import { formatSchedulerEvent } from '../../src/cli/commands/agent';
import { formatScheduleList } from '../../src/cli/commands/schedules';
import { rollupJobHandlers } from '../../src/main/scheduler/jobs';

describe('strata schedules list', () => {
  it('shows each job with its cron, whether it runs, its next runs and who changed it', () => {
    const text = formatScheduleList({
      schedules: [
        { job: 'rollup-hourly', cron: '0 * * * *', enabled: true, isDefault: true, defaultCron: '0 * * * *', nextRuns: ['2025-03-01T11:00:00.000Z', '2025-03-01T12:00:00.000Z', '2025-03-01T13:00:00.000Z'] },
        { job: 'rollup-daily', cron: '15 2 * * *', enabled: false, isDefault: false, defaultCron: '0 2 * * *', nextRuns: ['2025-03-02T02:15:00.000Z'], changedBy: 'dba@ops1', changedAt: '2025-03-01T10:04:05.000Z' },
      ],
    });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^JOB\s+CRON \(UTC\)\s+ENABLED\s+NEXT RUNS \(UTC\)\s+CHANGED$/);
    expect(lines[1]).toMatch(/^rollup-hourly\s+0 \* \* \* \*\s+yes\s+2025-03-01 11:00, 2025-03-01 12:00, 2025-03-01 13:00\s+default$/);
    expect(lines[2]).toMatch(/^rollup-daily\s+15 2 \* \* \*\s+no\s+\(disabled\)\s+dba@ops1 at 2025-03-01 10:04$/);
  });
});

describe('strata agent output', () => {
  it('prints one line per run and per lease change', () => {
    expect(formatSchedulerEvent({ kind: 'lease-acquired', token: 7 })).toBe('lease acquired with fencing token 7; this process now runs the schedules');
    expect(formatSchedulerEvent({ kind: 'lease-lost', token: 7, reason: 'taken' })).toMatch(/^lease \(token 7\) lost: .*standing by$/);
    expect(
      formatSchedulerEvent({
        kind: 'run',
        run: { job: 'rollup-hourly', trigger: 'catch-up', fencingToken: 7, startedAt: '2025-03-01T10:00:00.000Z', durationMs: 1520, outcome: 'ok', summary: '30 hourly windows' },
      }),
    ).toBe('run rollup-hourly catch-up token 7: ok in 1.5 s, 30 hourly windows');
  });
});

describe('rollup jobs', () => {
  it('run every due window of their level with the fencing token, signal and clock of the run', async () => {
    const calls: unknown[] = [];
    const handlers = rollupJobHandlers({
      runDue: async (level, options) => {
        calls.push({ level, ...options });
        const window = (hours: number, outcome: 'ok' | 'fenced') => ({
          windowStart: `2025-03-01T0${hours}:00:00.000Z`,
          windowEnd: `2025-03-01T0${hours + 1}:00:00.000Z`,
          outcome,
          rowsRead: 10,
          rowsWritten: outcome === 'ok' ? 1_200 : 0,
          durationMs: 5,
        });
        const windows = level === 'hourly' ? [window(1, 'ok'), window(2, 'ok'), window(3, 'ok')] : [window(0, 'fenced')];
        return {
          runId: 'r1',
          level,
          trigger: options.trigger,
          ok: level !== 'daily',
          shards: [{ shard: 0, shardName: 'shard0', watermarkBefore: null, watermarkAfter: null, windows }],
        };
      },
    });
    const signal = new AbortController().signal;
    const now = new Date('2025-03-01T10:00:05Z');
    expect(await handlers['rollup-hourly']?.({ trigger: 'catch-up', fencingToken: 4, signal, now })).toEqual({ ok: true, summary: '3 hourly windows on 1 shard, 3,600 rows written' });
    expect(await handlers['rollup-daily']?.({ trigger: 'schedule', fencingToken: 4, signal, now })).toEqual({ ok: false, summary: '1 daily window on 1 shard, 0 rows written; 1 fenced' });
    expect(calls).toEqual([
      { level: 'hourly', trigger: 'catch-up', fencingToken: 4, signal, now },
      { level: 'daily', trigger: 'schedule', fencingToken: 4, signal, now },
    ]);
  });
});
