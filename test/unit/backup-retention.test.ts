import { describe, expect, it } from 'vitest';
import { parseStoredBackupRetention, planBackupRetention, validateBackupRetention, DEFAULT_BACKUP_RETENTION, type RetainedSet } from '../../src/main/backup/retention';
import { backupJobHandlers } from '../../src/main/scheduler/jobs';
import type { BackupSetRecord } from '../../src/shared/backup';
import { ErrorCode } from '../../src/shared/errors';

const DAY = 86_400_000;
const NOW = new Date('2026-12-02T06:00:00Z');

/** A set taken `daysAgo` days before NOW at 01:00. */
const set = (id: string, daysAgo: number, overrides: Partial<RetainedSet> = {}): RetainedSet => ({
  id,
  startedAt: new Date(Date.parse('2026-12-02T01:00:00Z') - daysAgo * DAY),
  state: 'ok',
  verifiedShards: [],
  ...overrides,
});

const removed = (sets: RetainedSet[], policy: { keepSets: number | null; keepDays: number | null }) => planBackupRetention(sets, policy, NOW).remove.map((decision) => decision.id);

describe('backup retention', () => {
  const tenNights = Array.from({ length: 10 }, (_, night) => set(`n${night}`, night));

  it('keeps the newest N sets and removes the older ones', () => {
    expect(removed(tenNights, { keepSets: 3, keepDays: null })).toEqual(['n3', 'n4', 'n5', 'n6', 'n7', 'n8', 'n9']);
  });

  it('keeps every set younger than D days', () => {
    // n0…n4 started less than 5 days ago (01:00 of the 2nd back to 01:00 of Nov 28, now is 06:00).
    expect(removed(tenNights, { keepSets: null, keepDays: 5 })).toEqual(['n5', 'n6', 'n7', 'n8', 'n9']);
  });

  it('with both rules, a set goes only when neither keeps it', () => {
    expect(removed(tenNights, { keepSets: 6, keepDays: 2 })).toEqual(['n6', 'n7', 'n8', 'n9']);
    expect(removed(tenNights, { keepSets: 1, keepDays: 4 })).toEqual(['n4', 'n5', 'n6', 'n7', 'n8', 'n9']);
  });

  it('never removes the newest verified set of a shard, and says which shards it holds', () => {
    const sets = [set('new', 0, { verifiedShards: [0] }), set('mid', 3), set('old', 8, { verifiedShards: [0, 1] }), set('older', 9, { verifiedShards: [1] })];
    const plan = planBackupRetention(sets, { keepSets: 1, keepDays: null }, NOW);
    expect(plan.remove.map((decision) => decision.id)).toEqual(['mid', 'older']);
    expect(plan.keep).toEqual([
      { id: 'new', startedAt: sets[0]!.startedAt, keptBecause: ['newest-sets', 'newest-verified'], newestVerifiedOf: [0] },
      { id: 'old', startedAt: sets[2]!.startedAt, keptBecause: ['newest-verified'], newestVerifiedOf: [1] },
    ]);
  });

  it('does not count failed or cancelled sets as the newest N, and never removes a running one', () => {
    const sets = [set('running', 0, { state: 'running' }), set('failed', 1, { state: 'failed' }), set('cancelled', 2, { state: 'cancelled' }), set('partial', 3, { state: 'partial' }), set('ok', 4)];
    expect(removed(sets, { keepSets: 2, keepDays: null })).toEqual(['failed', 'cancelled']);
  });

  it('refuses a policy without any rule or with values out of range', () => {
    expect(() => validateBackupRetention({ keepSets: null, keepDays: null })).toThrow(expect.objectContaining({ code: ErrorCode.InvalidInput, message: expect.stringMatching(/needs keepSets, keepDays or both/) }));
    expect(() => validateBackupRetention({ keepSets: 0, keepDays: null })).toThrow(/keepSets must be a whole number from 1/);
    expect(() => validateBackupRetention({ keepSets: 3, keepDays: 1.5 })).toThrow(/keepDays must be a whole number/);
  });

  it('reads a stored policy, and falls back to the defaults for one that does not parse', () => {
    expect(parseStoredBackupRetention('{"keepSets":3,"keepDays":null}')).toEqual({ keepSets: 3, keepDays: null });
    expect(parseStoredBackupRetention(undefined)).toEqual(DEFAULT_BACKUP_RETENTION);
    expect(parseStoredBackupRetention('{"keepSets":0}')).toEqual(DEFAULT_BACKUP_RETENTION);
  });
});

describe('the scheduled backup job', () => {
  const record = (state: BackupSetRecord['state']) => ({ id: 's1', state, bytes: 2_000_000, parts: [] }) as unknown as BackupSetRecord;
  const runner = (newest: Date | undefined, state: BackupSetRecord['state'] = 'ok') => {
    const calls: string[] = [];
    return {
      calls,
      runner: {
        newestSetStartedAt: async () => newest,
        backup: async () => (calls.push('backup'), record(state)),
        prune: async () => (calls.push('prune'), { dryRun: false, removed: [{ setId: 'old', reason: 'older', bytes: 1 }], kept: [] }),
      },
    };
  };
  const run = (handlers: ReturnType<typeof backupJobHandlers>, trigger: 'schedule' | 'catch-up') => handlers.backup!({ trigger, fencingToken: 1, signal: new AbortController().signal, now: NOW });

  it('backs up, then applies the retention, on its schedule', async () => {
    const { calls, runner: fake } = runner(new Date(NOW.getTime() - 3_600_000));
    const result = await run(backupJobHandlers(fake), 'schedule');
    expect(calls).toEqual(['backup', 'prune']);
    expect(result).toEqual({ ok: true, summary: 'set s1 ok: 0 of 0 parts ok, 2.0 MB; retention removed 1 set, kept 0' });
  });

  it('catches up a missed day only, and never removes sets after a cancelled night', async () => {
    const recent = runner(new Date(NOW.getTime() - 5 * 3_600_000));
    expect((await run(backupJobHandlers(recent.runner), 'catch-up')).summary).toMatch(/less than a day ago: nothing missed/);
    expect(recent.calls).toEqual([]);
    const none = runner(undefined);
    expect((await run(backupJobHandlers(none.runner), 'catch-up')).summary).toMatch(/no backup set yet/);
    const missed = runner(new Date(NOW.getTime() - 29 * 3_600_000));
    await run(backupJobHandlers(missed.runner), 'catch-up');
    expect(missed.calls).toEqual(['backup', 'prune']);
    const cancelled = runner(new Date(NOW.getTime() - 29 * 3_600_000), 'cancelled');
    expect((await run(backupJobHandlers(cancelled.runner), 'schedule')).ok).toBe(false);
    expect(cancelled.calls).toEqual(['backup']);
  });
});
