import { describe, expect, it } from 'vitest';
import { ErrorCode, StrataError } from '../../src/shared/errors';
import { formatApplyReport, formatCheckReport, parseShardList } from '../../src/cli/commands/schema';

describe('strata schema command line', () => {
  it('reads --shards as a list of indexes and refuses anything else', () => {
    expect(parseShardList('0,2')).toEqual([0, 2]);
    expect(parseShardList('1,1')).toEqual([1]);
    // A coded error (reported in one line, exit 2), not commander's InvalidArgumentError with the usage after it.
    for (const bad of ['', '1,x', '-1', '0,,2', '0, 2']) {
      expect(() => parseShardList(bad)).toThrow(StrataError);
      expect(() => parseShardList(bad)).toThrow(expect.objectContaining({ code: ErrorCode.InvalidInput, message: expect.stringMatching(/^--shards must be shard indexes separated by commas, such as 0,2; got '/) }));
    }
  });

  it('prints one line per shard for apply, with the reason of a failure', () => {
    const text = formatApplyReport({
      ok: false,
      latestVersion: 1,
      shards: [
        { index: 0, name: 'shard0', outcome: 'applied', appliedVersions: [1], schemaVersion: 1 },
        { index: 1, name: 'shard1', outcome: 'up-to-date', appliedVersions: [], schemaVersion: 1 },
        { index: 2, name: 'shard2', outcome: 'failed', appliedVersions: [], problem: { code: 3001, message: 'shard2 (10.0.0.3:3306): connection refused; is the server running?' } },
      ],
    });
    expect(text.split('\n')).toEqual([
      'shard0     applied 1; now at v1',
      'shard1     up to date at v1',
      'shard2     FAILED: shard2 (10.0.0.3:3306): connection refused; is the server running?',
    ]);
  });

  it('prints one line per shard for check, listing every difference of a drifted shard', () => {
    const text = formatCheckReport({
      checkedAt: '2024-01-01T00:00:00.000Z',
      expectedVersion: 1,
      clean: false,
      shards: [
        { index: 0, name: 'shard0', reachable: true, schemaVersion: 1, drift: [] },
        {
          index: 1,
          name: 'shard1',
          reachable: true,
          schemaVersion: 1,
          drift: [
            { kind: 'index-missing', table: 'analytics_realtime', message: 'analytics_realtime: index idx_site_created (site_id, created_at) is missing' },
            { kind: 'column-extra', table: 'analytics_daily', message: 'analytics_daily: extra column note (text)' },
          ],
        },
        { index: 2, name: 'shard2', reachable: false, problem: { code: 3001, message: 'shard2 (10.0.0.3:3306): connection refused' }, drift: [] },
      ],
    });
    expect(text.split('\n')).toEqual([
      'shard0     clean  v1',
      'shard1     DRIFT  v1  2 differences: analytics_realtime: index idx_site_created (site_id, created_at) is missing; analytics_daily: extra column note (text)',
      'shard2     DOWN   shard2 (10.0.0.3:3306): connection refused',
    ]);
  });
});
