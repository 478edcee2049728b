import { describe, expect, it } from 'vitest';
import { formatRollupReport, parseRollupOptions } from '../../src/cli/commands/rollup';
import { formatRuns, parseRunsOptions } from '../../src/cli/commands/runs';
import { ErrorCode } from '../../src/shared/errors';

const refused = (message: RegExp) => expect.objectContaining({ code: ErrorCode.RollupInvalid, message: expect.stringMatching(message) });

describe('strata rollup and strata runs options', () => {
  it('takes a level alone for the due windows, or a level with a whole range', () => {
    expect(parseRollupOptions({ level: 'daily' })).toEqual({ level: 'daily' });
    expect(parseRollupOptions({ level: 'hourly', from: '2025-03-01', to: '2025-03-01T06:00:00Z' })).toEqual({
      level: 'hourly',
      range: { from: new Date('2025-03-01T00:00:00Z'), to: new Date('2025-03-01T06:00:00Z') },
    });
  });

  it('refuses an unknown level, half a range, a reversed range and local times', () => {
    expect(() => parseRollupOptions({ level: 'weekly' })).toThrow(refused(/--level must be one of hourly, daily, monthly, got 'weekly'/));
    expect(() => parseRollupOptions({})).toThrow(refused(/--level must be one of/));
    expect(() => parseRollupOptions({ level: 'hourly', to: '2025-03-01' })).toThrow(refused(/--from and --to go together/));
    expect(() => parseRollupOptions({ level: 'hourly', from: '2025-03-02', to: '2025-03-01' })).toThrow(refused(/must be before --to/));
    expect(() => parseRollupOptions({ level: 'hourly', from: '2025-03-01', to: '2025-03-01' })).toThrow(refused(/must be before --to/));
    expect(() => parseRollupOptions({ level: 'hourly', from: '2025-03-01T00:00:00+02:00', to: '2025-03-02' })).toThrow(refused(/must be in UTC/));
  });

  it('limits runs to 1-1000 and a known level', () => {
    expect(parseRunsOptions({ limit: '20' })).toEqual({ limit: 20 });
    expect(parseRunsOptions({ limit: '5', level: 'monthly' })).toEqual({ limit: 5, level: 'monthly' });
    expect(() => parseRunsOptions({ limit: '1001' })).toThrow(refused(/--limit must be a whole number from 1 to 1000/));
    expect(() => parseRunsOptions({ limit: 'ten' })).toThrow(refused(/--limit/));
    expect(() => parseRunsOptions({ limit: '5', level: 'yearly' })).toThrow(refused(/--level must be one of/));
  });

  it('prints one line per shard and window, the failure reason, and each watermark move', () => {
    const text = formatRollupReport({
      runId: 'r1',
      level: 'hourly',
      trigger: 'manual',
      ok: false,
      shards: [
        {
          shard: 0,
          shardName: 'shard0',
          watermarkBefore: '2025-03-01T10:00:00.000Z',
          watermarkAfter: '2025-03-01T11:00:00.000Z',
          windows: [{ windowStart: '2025-03-01T10:00:00.000Z', windowEnd: '2025-03-01T11:00:00.000Z', outcome: 'ok', rowsRead: 1234, rowsWritten: 56, durationMs: 120, watermark: 'advanced' }],
        },
        {
          shard: 1,
          shardName: 'shard1',
          watermarkBefore: null,
          watermarkAfter: null,
          windows: [{ windowStart: '2025-03-01T10:00:00.000Z', windowEnd: '2025-03-01T11:00:00.000Z', outcome: 'failed', rowsRead: 0, rowsWritten: 0, durationMs: 5, error: 'shard1: connection lost' }],
        },
      ],
    });
    expect(text.split('\n')).toEqual([
      'shard0     2025-03-01T10:00Z → 2025-03-01T11:00Z  ok  read 1,234  wrote 56  0.12 s  watermark advanced',
      'shard0     watermark 2025-03-01T10:00:00.000Z → 2025-03-01T11:00:00.000Z',
      'shard1     2025-03-01T10:00Z → 2025-03-01T11:00Z  FAILED  read 0  wrote 0  0.01 s  shard1: connection lost',
      'shard1     watermark none → none',
      'NOT OK: hourly rollup, run r1',
    ]);
    expect(formatRuns([])).toBe('no rollup runs recorded yet');
  });

  it('says a watermark that did not move as it is, and a kept window with its code (issue 9 item 8)', () => {
    const window = { windowStart: '2026-11-30T05:00:00.000Z', windowEnd: '2026-11-30T06:00:00.000Z', rowsRead: 0, rowsWritten: 0, durationMs: 3 };
    const text = formatRollupReport({
      runId: 'r2',
      level: 'hourly',
      trigger: 'manual',
      ok: false,
      shards: [
        {
          shard: 1,
          shardName: 'shard1',
          watermarkBefore: '2026-12-01T05:00:00.000Z',
          watermarkAfter: '2026-12-01T05:00:00.000Z',
          windows: [{ ...window, outcome: 'failed', code: ErrorCode.RollupSourceIncomplete, error: 'the source of the hourly window … holds 1 page views, fewer than the 245 already rolled up' }],
        },
      ],
    });
    expect(text.split('\n')).toEqual([
      'shard1     2026-11-30T05:00Z → 2026-11-30T06:00Z  FAILED  read 0  wrote 0  0.00 s  error 7003 (RollupSourceIncomplete): the source of the hourly window … holds 1 page views, fewer than the 245 already rolled up',
      'shard1     watermark 2026-12-01T05:00Z (unchanged)',
      'NOT OK: hourly rollup, run r2',
    ]);
  });
});
