import { describe, expect, it } from 'vitest';
import { formatActivityReport } from '../../src/cli/commands/activity';
import { conflictingKinds, conflicts, describeConflict, findConflict, SHARD_ACTIVITIES, type ActivityRecord, type ShardActivityKind } from '../../src/main/conflicts/rules';

const record = (kind: ShardActivityKind, overrides: Partial<ActivityRecord> = {}): ActivityRecord => ({
  id: `${kind}-1`,
  kind,
  shard: 1,
  host: 'db-admin-2',
  pid: 4121,
  startedAt: '2026-11-25T04:00:12.345Z',
  ...overrides,
});

describe('the job-conflict rule', () => {
  it('lets nothing else start on a shard while it is backed up, and no second backup either', () => {
    expect([...conflictingKinds('backup')].sort()).toEqual(['backup', 'convert', 'maintenance', 'prune']);
    for (const kind of ['prune', 'maintenance', 'convert'] as const) {
      expect(conflictingKinds(kind)).toEqual(['backup']);
      expect(findConflict(kind, [record('backup')])?.id).toBe('backup-1');
      expect(findConflict('backup', [record(kind)])?.id).toBe(`${kind}-1`);
    }
    expect(findConflict('backup', [record('backup')])?.id).toBe('backup-1');
  });

  it('lets prune, maintenance and conversion run side by side, and anything start on an idle shard', () => {
    const others = [record('prune'), record('maintenance'), record('convert')];
    for (const kind of ['prune', 'maintenance', 'convert'] as const) expect(findConflict(kind, others)).toBeUndefined();
    for (const kind of SHARD_ACTIVITIES) expect(findConflict(kind, [])).toBeUndefined();
  });

  it('is symmetric: if a blocks b, b blocks a', () => {
    for (const a of SHARD_ACTIVITIES) for (const b of SHARD_ACTIVITIES) expect(conflicts(a, b)).toBe(conflicts(b, a));
  });

  it('names the blocking job, its shard, its start (to the second, UTC), host and pid in one sentence', () => {
    expect(describeConflict(record('backup'), 'shard1')).toBe('a backup of shard1 has been running since 2026-11-25T04:00:12Z on host db-admin-2 (pid 4121)');
    expect(describeConflict(record('maintenance', { detail: 'adding future partitions' }), 'eu-2')).toBe(
      'partition maintenance of eu-2 has been running since 2026-11-25T04:00:12Z on host db-admin-2 (pid 4121): adding future partitions',
    );
  });
});

describe('strata activity output', () => {
  it('prints one line per running job, and says so for an idle shard', () => {
    const text = formatActivityReport({
      checkedAt: '2026-11-25T04:10:00.000Z',
      shards: [
        { index: 0, name: 'shard0', running: [] },
        { index: 1, name: 'shard1', running: [record('backup', { detail: 'nightly full dump' }), record('backup', { id: 'b2', host: 'db-admin-3', pid: 77 })] },
      ],
    });
    expect(text.split('\n')).toEqual([
      'shard0     nothing running',
      'shard1     backup      since 2026-11-25T04:00:12Z on db-admin-2 pid 4121  nightly full dump',
      '           backup      since 2026-11-25T04:00:12Z on db-admin-3 pid 77',
    ]);
  });
});
