import { describe, expect, it } from 'vitest';
import { formatInvalidation, formatInvalidationLog, formatKeys, formatStats } from '../../src/cli/commands/cache';
import type { CacheInvalidationLogEntry, CacheStats } from '../../src/shared/cache';

const entry = (over: Partial<CacheInvalidationLogEntry>): CacheInvalidationLogEntry => ({
  id: 1,
  at: '2026-11-20T10:00:00.000Z',
  runKind: 'backfill',
  runId: '12',
  shards: [0],
  siteId: null,
  from: '2026-11-19T00:00:00.000Z',
  to: '2026-11-20T00:00:00.000Z',
  keysDeleted: 4,
  outcome: 'invalidated',
  note: null,
  ...over,
});

describe('strata cache text output', () => {
  it('prints the figures, the key counts and the log', () => {
    const stats: CacheStats = {
      at: '2026-11-20T10:00:00.000Z',
      redis: 'redis://10.0.0.9:6379/0',
      prefix: 'laravel_database_laravel_cache_:',
      hits: 900,
      misses: 100,
      hitRatio: 0.9,
      usedMemoryBytes: 2 * 1024 * 1024,
      maxMemoryBytes: null,
      evictedKeys: 3,
      expiredKeys: 1200,
      keysByKind: { stats: 2, chart: 1500 },
      sites: 2,
      topSites: [],
      truncated: false,
      invalidations: { entries: [entry({}), entry({ id: 2, runKind: 'manual', runId: null, shards: null, siteId: 7, from: null, to: null, keysDeleted: 0 })] },
    };
    const text = formatStats(stats);
    expect(text).toContain('hit ratio 90.0 % (900 hits, 100 misses since Redis started)');
    expect(text).toContain('memory 2.0 MiB (no maxmemory), 3 evicted, 1,200 expired');
    expect(text).toContain('keys: 1,500 chart, 2 stats, over 2 sites');
    const log = text.split('\n').slice(-3);
    expect(log[0]).toMatch(/^AT\s+RUN\s+SCOPE\s+RANGE\s+KEYS$/);
    expect(log[1]).toMatch(/^2026-11-20T10:00:00.000Z\s+backfill 12\s+shards 0\s+2026-11-19T00:00:00.000Z – 2026-11-20T00:00:00.000Z\s+4$/);
    expect(log[2]).toMatch(/manual\s+site 7\s+any time\s+0$/);
  });

  it('says why nothing was deleted when Redis could not be reached, and when the log is empty', () => {
    expect(formatInvalidationLog([entry({ keysDeleted: null, outcome: 'not-invalidated', note: 'not invalidated: Redis unreachable (refused)' })])[1]).toMatch(/not invalidated: Redis unreachable \(refused\)$/);
    expect(formatInvalidationLog([])).toEqual(['no invalidations recorded']);
  });

  it('lists keys with TTL and size, and says how many were left out', () => {
    const text = formatKeys({
      prefix: 'p:',
      matched: 3,
      truncated: true,
      keys: [
        { key: 'p:site_1_stats_24h', kind: 'stats', siteId: 1, period: null, startDate: null, endDate: null, ttlSeconds: 120, sizeBytes: 80 },
        { key: 'p:chart_1_1d_2026-11-19_2026-11-19', kind: 'chart', siteId: 1, period: '1d', startDate: '2026-11-19', endDate: '2026-11-19', ttlSeconds: null, sizeBytes: null },
      ],
    }).split('\n');
    expect(lines(text)).toEqual([
      ['KEY', 'SITE', 'KIND', 'TTL', 'SIZE'],
      ['p:site_1_stats_24h', '1', 'stats', '120 s', '80 B'],
      ['p:chart_1_1d_2026-11-19_2026-11-19', '1', 'chart', 'none', '-'],
    ]);
    expect(text[3]).toBe('… 1 more keys not listed (3 in all)');
    expect(formatKeys({ prefix: 'p:', matched: 0, truncated: false, keys: [] })).toBe('no application keys under p:');
  });

  it('says what a dry run would delete and what an invalidation did', () => {
    const dry = formatInvalidation({ at: '', dryRun: true, scope: 'site 7', matched: 3, deleted: 0, scanned: 10, sample: ['a', 'b'] });
    expect(dry.split('\n')).toEqual(['dry run: 3 keys of site 7 would be deleted (10 scanned); nothing changed', '  a', '  b', '  … and 1 more']);
    expect(formatInvalidation({ at: '', dryRun: false, scope: 'all sites', matched: 5, deleted: 4, scanned: 5, sample: [] })).toBe('deleted 4 keys of all sites (1 had expired meanwhile)');
  });
});

function lines(text: string[]): string[][] {
  return text.slice(0, 3).map((line) => line.split(/\s{2,}/));
}
