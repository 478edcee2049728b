import { describe, expect, it } from 'vitest';
import {
  affectedSpan,
  backfillSteps,
  cancelRequester,
  cancelRequestNote,
  cascadeSourceComplete,
  effectiveState,
  estimateFromHistory,
  FALLBACK_RATES,
  outsideSourceRetention,
  parseRange,
  rebuildableFrom,
  refusedRanges,
  remainingMs,
  resolveShards,
  spansOverlap,
  windowEstimateMs,
  type BackfillStep,
} from '../../src/main/backfill/planner';
import { ErrorCode } from '../../src/shared/errors';
import { DEFAULT_RETENTION } from '../../src/shared/rollup';

const t = (text: string) => new Date(text);
const describeSteps = (steps: BackfillStep[]) => steps.map((step) => `${step.level} ${step.kind} ${step.start.toISOString()}`);
const NOW = t('2025-06-15T12:30:00Z');

describe('backfill windows', () => {
  it('covers a range with whole windows of its level, oldest first', () => {
    expect(describeSteps(backfillSteps('hourly', t('2025-06-14T10:20:00Z'), t('2025-06-14T13:00:00Z'), false))).toEqual([
      'hourly range 2025-06-14T10:00:00.000Z',
      'hourly range 2025-06-14T11:00:00.000Z',
      'hourly range 2025-06-14T12:00:00.000Z',
    ]);
    expect(backfillSteps('daily', t('2025-02-27T00:00:00Z'), t('2025-03-02T00:00:00Z'), false).map((step) => step.end.toISOString())).toEqual([
      '2025-02-28T00:00:00.000Z',
      '2025-03-01T00:00:00.000Z',
      '2025-03-02T00:00:00.000Z',
    ]);
    expect(describeSteps(backfillSteps('monthly', t('2024-12-15T00:00:00Z'), t('2025-01-02T00:00:00Z'), false))).toEqual([
      'monthly range 2024-12-01T00:00:00.000Z',
      'monthly range 2025-01-01T00:00:00.000Z',
    ]);
  });

  it('cascades hours to the days covering them, then to their months, after all the hours', () => {
    const steps = backfillSteps('hourly', t('2025-05-31T22:00:00Z'), t('2025-06-01T02:00:00Z'), true);
    expect(describeSteps(steps)).toEqual([
      'hourly range 2025-05-31T22:00:00.000Z',
      'hourly range 2025-05-31T23:00:00.000Z',
      'hourly range 2025-06-01T00:00:00.000Z',
      'hourly range 2025-06-01T01:00:00.000Z',
      'daily cascade 2025-05-31T00:00:00.000Z',
      'daily cascade 2025-06-01T00:00:00.000Z',
      'monthly cascade 2025-05-01T00:00:00.000Z',
      'monthly cascade 2025-06-01T00:00:00.000Z',
    ]);
    expect(describeSteps(backfillSteps('daily', t('2025-06-03T00:00:00Z'), t('2025-06-05T00:00:00Z'), true)).slice(2)).toEqual(['monthly cascade 2025-06-01T00:00:00.000Z']);
    expect(backfillSteps('monthly', t('2025-01-01T00:00:00Z'), t('2025-03-01T00:00:00Z'), true)).toHaveLength(2);
    expect(affectedSpan(steps)).toEqual({ from: t('2025-05-01T00:00:00Z'), to: t('2025-07-01T00:00:00Z') });
  });

  it('refuses a reversed or unreadable range, an unknown shard and a range with too many windows', () => {
    expect(() => parseRange('2025-06-02T00:00:00Z', '2025-06-01T00:00:00Z')).toThrow(/from \(2025-06-02T00:00:00.000Z\) must be before to/);
    expect(() => parseRange('yesterday', '2025-06-01T00:00:00Z')).toThrow(expect.objectContaining({ code: ErrorCode.BackfillInvalid }));
    expect(() => resolveShards([0, 3], 2)).toThrow(expect.objectContaining({ code: ErrorCode.UnknownShard, message: expect.stringContaining('shard 3 does not exist') }));
    expect(resolveShards(undefined, 3)).toEqual([0, 1, 2]);
    expect(resolveShards([1, 1, 0], 3)).toEqual([0, 1]);
    expect(() => backfillSteps('hourly', t('2020-01-01T00:00:00Z'), t('2025-01-01T00:00:00Z'), false)).toThrow(/split it into smaller/);
  });
});

describe('cascade completeness', () => {
  const day: BackfillStep = { level: 'daily', start: t('2025-06-14T00:00:00Z'), end: t('2025-06-15T00:00:00Z'), kind: 'cascade' };
  it('re-rolls a day once the hourly watermark has passed its end', () => {
    expect(cascadeSourceComplete(day, { hourly: t('2025-06-15T00:00:00Z') }, [])).toBe(true);
    expect(cascadeSourceComplete(day, { hourly: t('2025-06-14T23:00:00Z') }, [])).toBe(false);
    expect(cascadeSourceComplete(day, {}, [])).toBe(false);
  });

  it('or when the backfill itself rebuilt every hour of the day', () => {
    const allHours = backfillSteps('hourly', day.start, day.end, false);
    expect(cascadeSourceComplete(day, {}, allHours)).toBe(true);
    expect(cascadeSourceComplete(day, {}, allHours.slice(1))).toBe(false);
  });

  it('and a month once the backfill re-rolled every day of it, days it rebuilt from its own hours included', () => {
    const steps = backfillSteps('hourly', t('2025-05-01T00:00:00Z'), t('2025-06-01T00:00:00Z'), true);
    const month = steps.find((step) => step.level === 'monthly')!;
    expect(month.kind).toBe('cascade');
    expect(cascadeSourceComplete(month, {}, steps)).toBe(true);
    // The last day lacks an hour: that day cannot be re-rolled, so neither can the month.
    expect(cascadeSourceComplete(month, {}, steps.filter((step) => step.start.getTime() !== t('2025-05-31T23:00:00Z').getTime()))).toBe(false);
    // Half a month of hours: the month's other days are neither rebuilt nor under the daily watermark.
    const half = backfillSteps('hourly', t('2025-05-16T00:00:00Z'), t('2025-06-01T00:00:00Z'), true);
    expect(cascadeSourceComplete(half.find((step) => step.level === 'monthly')!, {}, half)).toBe(false);
    expect(cascadeSourceComplete(half.find((step) => step.level === 'monthly')!, { daily: t('2025-06-01T00:00:00Z') }, half)).toBe(true);
  });
});

describe('pruned sources', () => {
  it('says when retention no longer keeps a window’s source (raw 48 h, hourly 7 days, daily 1 year)', () => {
    expect(outsideSourceRetention({ level: 'hourly', start: t('2025-06-13T13:00:00Z') }, NOW, DEFAULT_RETENTION)).toBe(false);
    expect(outsideSourceRetention({ level: 'hourly', start: t('2025-06-13T12:00:00Z') }, NOW, DEFAULT_RETENTION)).toBe(true);
    expect(outsideSourceRetention({ level: 'daily', start: t('2025-06-09T00:00:00Z') }, NOW, DEFAULT_RETENTION)).toBe(false);
    expect(outsideSourceRetention({ level: 'daily', start: t('2025-06-08T00:00:00Z') }, NOW, DEFAULT_RETENTION)).toBe(true);
    expect(outsideSourceRetention({ level: 'monthly', start: t('2024-06-01T00:00:00Z') }, NOW, DEFAULT_RETENTION)).toBe(true);
  });

  it('names the level a pruned range can still be rebuilt from', () => {
    expect(rebuildableFrom({ level: 'hourly', start: t('2025-06-10T05:00:00Z') }, NOW, DEFAULT_RETENTION)).toBe('hourly');
    expect(rebuildableFrom({ level: 'hourly', start: t('2025-05-01T05:00:00Z') }, NOW, DEFAULT_RETENTION)).toBe('daily');
    expect(rebuildableFrom({ level: 'daily', start: t('2025-05-01T00:00:00Z') }, NOW, DEFAULT_RETENTION)).toBe('daily');
    expect(rebuildableFrom({ level: 'hourly', start: t('2023-01-01T00:00:00Z') }, NOW, DEFAULT_RETENTION)).toBeNull();
    expect(rebuildableFrom({ level: 'monthly', start: t('2023-01-01T00:00:00Z') }, NOW, DEFAULT_RETENTION)).toBeNull();
  });

  it('merges refused windows into ranges, each with the advice for its level', () => {
    const hour = (text: string, shards = [0, 1]) => ({ level: 'hourly' as const, start: t(text), end: new Date(t(text).getTime() + 3_600_000), shards });
    const ranges = refusedRanges([hour('2025-06-10T05:00:00Z'), hour('2025-06-10T06:00:00Z', [1]), hour('2025-06-10T09:00:00Z')], NOW, DEFAULT_RETENTION);
    expect(ranges.map(({ from, to, rebuildFrom }) => [from, to, rebuildFrom])).toEqual([
      ['2025-06-10T05:00:00.000Z', '2025-06-10T07:00:00.000Z', 'hourly'],
      ['2025-06-10T09:00:00.000Z', '2025-06-10T10:00:00.000Z', 'hourly'],
    ]);
    expect(ranges[0]!.message).toBe(
      'the raw page views of 2025-06-10T05:00:00.000Z – 2025-06-10T07:00:00.000Z were pruned on shard 0, shard 1 (kept 48 h); the hourly rows still hold it: backfill --level daily rebuilds from them',
    );
  });
});

describe('time estimates', () => {
  it('falls back to stated rates without history', () => {
    const estimate = estimateFromHistory('hourly', []);
    expect(estimate).toMatchObject({ basis: 'fallback', msPerRow: 1000 / FALLBACK_RATES.hourly.rowsPerSecond, msPerWindow: FALLBACK_RATES.hourly.msPerWindow });
    expect(estimate.note).toBe('no hourly run history yet: assumed 50,000 source rows/s and 50 ms per window');
    expect(estimateFromHistory('daily', [{ rowsRead: 0, durationMs: 40 }]).basis).toBe('fallback');
  });

  it('takes the fastest past window as the fixed cost and the rest per source row', () => {
    const estimate = estimateFromHistory('hourly', [
      { rowsRead: 1000, durationMs: 30 },
      { rowsRead: 3000, durationMs: 50 },
      { rowsRead: 0, durationMs: 5 },
    ]);
    expect(estimate.basis).toBe('history');
    expect(estimate.msPerWindow).toBe(30);
    expect(estimate.msPerRow).toBeCloseTo(20 / 4000);
    expect(estimate.note).toBe('from the last 2 hourly windows: 200,000 source rows/s plus 30 ms per window');
    // Shards run a window in parallel: the slowest shard sets its time.
    expect(windowEstimateMs([1000, 4000], estimate)).toBe(50);
    expect(windowEstimateMs([], estimate)).toBe(0);
  });

  it('scales the planned time left by how the finished windows compared with their plan', () => {
    const planned = [100, 100, 100, 100];
    expect(remainingMs(planned, 0, 0, 0)).toBe(400);
    expect(remainingMs(planned, 0, 2, 400)).toBe(400);
    expect(remainingMs(planned, 2, 3, 50)).toBe(50);
    expect(remainingMs(planned, 0, 4, 1000)).toBe(0);
  });
});

describe('overlap and liveness', () => {
  it('refuses only backfills that share time and shards', () => {
    const june = { from: t('2025-06-01T00:00:00Z'), to: t('2025-07-01T00:00:00Z'), shards: [0, 1] };
    expect(spansOverlap(june, { from: t('2025-06-30T00:00:00Z'), to: t('2025-07-02T00:00:00Z'), shards: [1] })).toBe(true);
    expect(spansOverlap(june, { from: t('2025-07-01T00:00:00Z'), to: t('2025-07-02T00:00:00Z'), shards: [0] })).toBe(false);
    expect(spansOverlap(june, { ...june, shards: [2] })).toBe(false);
  });

  it('calls a running backfill interrupted when its process on this host is gone, or another host stopped beating', () => {
    const check = { thisHost: 'a', runningHere: new Set([7]), pidAlive: (pid: number) => pid === 100, now: NOW, staleAfterMs: 60_000 };
    const row = (id: number, host: string, pid: number, secondsAgo = 1, state = 'running') => ({ id, state, host, pid, updatedAt: new Date(NOW.getTime() - secondsAgo * 1000) });
    expect(effectiveState(row(7, 'a', 999), check)).toBe('running');
    expect(effectiveState(row(1, 'a', 100), check)).toBe('running');
    expect(effectiveState(row(1, 'a', 101), check)).toBe('interrupted');
    expect(effectiveState(row(1, 'b', 101, 30), check)).toBe('running');
    expect(effectiveState(row(1, 'b', 101, 61), check)).toBe('interrupted');
    expect(effectiveState(row(1, 'a', 101, 1, 'done'), check)).toBe('done');
  });

  it('keeps a cancel request while its process lives, and calls it interrupted once the process is gone', () => {
    const check = { thisHost: 'a', runningHere: new Set([7]), pidAlive: (pid: number) => pid === 100, now: NOW, staleAfterMs: 60_000 };
    const row = (id: number, host: string, pid: number, secondsAgo = 1) => ({ id, state: 'cancelling', host, pid, updatedAt: new Date(NOW.getTime() - secondsAgo * 1000) });
    expect(effectiveState(row(7, 'a', 999), check)).toBe('cancelling');
    expect(effectiveState(row(1, 'a', 100), check)).toBe('cancelling');
    expect(effectiveState(row(1, 'a', 101), check)).toBe('interrupted');
    expect(effectiveState(row(1, 'b', 101, 30), check)).toBe('cancelling');
    expect(effectiveState(row(1, 'b', 101, 61), check)).toBe('interrupted');
  });

  it('reads who asked for a cancel back from the note it leaves', () => {
    expect(cancelRequester(cancelRequestNote('dba@console-1'))).toBe('dba@console-1');
    expect(cancelRequester('shard 1 is unreachable')).toBeUndefined();
    expect(cancelRequester(null)).toBeUndefined();
  });
});
