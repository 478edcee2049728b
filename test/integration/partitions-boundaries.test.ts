import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/main/log';
import { ClusterPartitionService } from '../../src/main/partitions/service';
import { ClusterRetentionService } from '../../src/main/retention/service';
import { ClusterSchemaService } from '../../src/main/schema/service';
import type { PruneReport, TablePrune } from '../../src/shared/retention';
import { startTestCluster, type TestCluster } from '../support/cluster';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** MySQL's TO_DAYS('1970-01-01'): reads day-number bounds back into instants without the code under test. */
const TO_DAYS_OF_EPOCH = 719_528;

/** The schema is created at this fixed instant, so what the test sees does not depend on the machine's date. */
const SCHEMA_AT = new Date('2026-12-20T00:00:00Z');
/** Half an hour before the new year: a week ahead of it crosses the month and the year boundary. */
const NEW_YEARS_EVE = new Date('2026-12-31T22:30:00Z');
/** 48 h of raw and 7 days of hourly retention, seen from here, both reach back past the new year. */
const LATER = new Date('2027-01-10T05:00:00Z');
const BEFORE_MIDNIGHT = new Date('2026-12-31T23:00:00Z');
const MIDNIGHT = new Date('2027-01-01T00:00:00Z');
const AFTER_MIDNIGHT = new Date('2027-01-01T01:00:00Z');

const TABLES = ['analytics_realtime', 'analytics_hourly', 'analytics_daily', 'analytics_monthly'] as const;
type Table = (typeof TABLES)[number];
type Granularity = 'hour' | 'day' | 'month' | 'year';
const GRANULARITY: Record<Table, Granularity> = { analytics_realtime: 'hour', analytics_hourly: 'day', analytics_daily: 'month', analytics_monthly: 'year' };

/** Raw page views per shard in the last hour of 2026 and the first of 2027; never the same on both shards. */
const NEW_YEAR_ROWS = [
  { beforeMidnight: 3, afterMidnight: 2 },
  { beforeMidnight: 1, afterMidnight: 4 },
];

/** One partition as information_schema shows it; `to` is its VALUES LESS THAN as an instant, null for pmax. */
interface Partition {
  name: string;
  to: Date | null;
}
type Snapshot = Record<Table, Partition[]>;

function nextPeriod(start: Date, granularity: Granularity): Date {
  switch (granularity) {
    case 'hour':
      return new Date(start.getTime() + HOUR);
    case 'day':
      return new Date(start.getTime() + DAY);
    case 'month':
      return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    case 'year':
      return new Date(Date.UTC(start.getUTCFullYear() + 1, 0, 1));
  }
}

const DIGITS: Record<Granularity, number> = { year: 4, month: 6, day: 8, hour: 10 };

/** `pYYYY`, `pYYYYMM`, `pYYYYMMDD` or `pYYYYMMDDHH` for the period starting at `start`. */
const nameAt = (start: Date, granularity: Granularity) => `p${start.toISOString().replace(/[-T:]/g, '').slice(0, DIGITS[granularity])}`;

function startOfName(name: string): Date {
  const digits = name.slice(1);
  const field = (from: number, to: number, fallback: number) => (digits.length >= to ? Number(digits.slice(from, to)) : fallback);
  return new Date(Date.UTC(field(0, 4, 0), field(4, 6, 1) - 1, field(6, 8, 1), field(8, 10, 0)));
}

/** Names of every period from the one starting at `first` through the one starting at `last`. */
function namesThrough(first: Date, last: Date, granularity: Granularity): string[] {
  const names: string[] = [];
  for (let at = first; at <= last; at = nextPeriod(at, granularity)) names.push(nameAt(at, granularity));
  return names;
}

const names = (partitions: readonly Partition[]) => partitions.map((partition) => partition.name);

/** The range a partition holds, from the bound of the one before it (null for the first) to its own. */
function rangeOf(partitions: readonly Partition[], name: string): { from: string | null; to: string | null } {
  const at = partitions.findIndex((partition) => partition.name === name);
  expect(at, `${name} exists`).toBeGreaterThanOrEqual(0);
  return { from: at === 0 ? null : (partitions[at - 1]?.to?.toISOString() ?? null), to: partitions[at]?.to?.toISOString() ?? null };
}

/** pmax is last, and every other partition ends exactly one period after the start its name says. */
function expectNamedBounds(partitions: readonly Partition[], granularity: Granularity): void {
  expect(partitions.at(-1)).toEqual({ name: 'pmax', to: null });
  for (const partition of partitions.slice(0, -1)) expect(partition.to, partition.name).toEqual(nextPeriod(startOfName(partition.name), granularity));
}

/** No gap and no overlap: each partition starts where the one before it ends. */
function expectContiguous(partitions: readonly Partition[], granularity: Granularity): void {
  expectNamedBounds(partitions, granularity);
  partitions.slice(1, -1).forEach((partition, index) => expect(partition.name).toBe(nameAt(partitions[index]!.to!, granularity)));
}

const tableOf = (report: PruneReport, shard: number, table: Table): TablePrune => {
  const found = report.shards.find((entry) => entry.index === shard)?.tables.find((entry) => entry.table === table);
  if (!found) throw new Error(`the report has no ${table} on shard ${shard}`);
  return found;
};

describe('partition maintenance across a month and a year boundary on a 2-shard cluster', () => {
  let cluster: TestCluster;
  const query = <T>(shard: number, sql: string, params: unknown[] = []) => cluster.services.connections.query<T>(shard, sql, params);
  const partitionsAt = (now: Date) => new ClusterPartitionService(cluster.services.connections, cluster.services.state, silentLogger.scope('partitions'), cluster.services.activities, { clock: () => now });
  const retentionAt = (now: Date) => new ClusterRetentionService(cluster.services.connections, cluster.services.state, silentLogger.scope('retention'), cluster.services.activities, { clock: () => now });

  async function readPartitions(shard: number, table: Table): Promise<Partition[]> {
    const rows = await query<Array<{ name: string; description: string }>>(
      shard,
      `SELECT PARTITION_NAME AS name, PARTITION_DESCRIPTION AS description FROM information_schema.PARTITIONS
        WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY PARTITION_ORDINAL_POSITION`,
      [table],
    );
    return rows.map(({ name, description }) => {
      if (description === 'MAXVALUE') return { name, to: null };
      const bound = Number(description);
      return { name, to: new Date(table === 'analytics_realtime' ? bound * 1000 : (bound - TO_DAYS_OF_EPOCH) * DAY) };
    });
  }

  async function snapshot(shard: number): Promise<Snapshot> {
    const entries = await Promise.all(TABLES.map(async (table) => [table, await readPartitions(shard, table)] as const));
    return Object.fromEntries(entries) as Snapshot;
  }

  const snapshots = () => Promise.all([0, 1].map(snapshot));

  async function rowsIn(shard: number, partition: string): Promise<number> {
    const [row] = await query<Array<{ n: number | string }>>(shard, `SELECT COUNT(*) AS n FROM analytics_realtime PARTITION (${partition})`);
    return Number(row?.n);
  }

  async function hourlyPageViews(shard: number): Promise<Array<[string, number]>> {
    const rows = await query<Array<{ hour_start: Date; pv: number | string }>>(
      shard,
      'SELECT hour_start, SUM(page_views) AS pv FROM analytics_hourly WHERE hour_start >= ? AND hour_start < ? GROUP BY hour_start ORDER BY hour_start',
      [BEFORE_MIDNIGHT, AFTER_MIDNIGHT],
    );
    return rows.map((row) => [row.hour_start.toISOString(), Number(row.pv)]);
  }

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2, schema: false });
    const schema = new ClusterSchemaService(cluster.services.connections, silentLogger.scope('schema'), { clock: () => SCHEMA_AT });
    try {
      const report = await schema.apply();
      if (!report.ok) throw new Error(`schema apply failed: ${JSON.stringify(report)}`);
    } finally {
      await schema.dispose();
    }
    // The schema keeps daily partitions 3 months and monthly ones a year ahead of its instant; trimming both back
    // to 2026 makes the planner itself add their first partitions of 2027.
    for (const shard of [0, 1]) {
      await query(shard, 'ALTER TABLE analytics_daily REORGANIZE PARTITION p202701, p202702, p202703, pmax INTO (PARTITION pmax VALUES LESS THAN MAXVALUE)');
      await query(shard, 'ALTER TABLE analytics_monthly REORGANIZE PARTITION p2027, pmax INTO (PARTITION pmax VALUES LESS THAN MAXVALUE)');
    }
  });

  afterAll(async () => {
    await cluster?.down();
  });

  it('adds a week of hours and days, and a quarter of months, across the new year; a second run changes nothing', async () => {
    const service = partitionsAt(NEW_YEARS_EVE);
    const before = await snapshots();
    for (const shard of before) {
      expect(shard.analytics_realtime.at(-2)?.name).toBe('p2026122700');
      expect(names(shard.analytics_daily).slice(-2)).toEqual(['p202612', 'pmax']);
      expect(names(shard.analytics_monthly).slice(-2)).toEqual(['p2026', 'pmax']);
    }

    const expectedAdds: Record<Table, string[]> = {
      analytics_realtime: namesThrough(new Date('2026-12-27T01:00:00Z'), new Date('2027-01-07T22:00:00Z'), 'hour'),
      analytics_hourly: ['p20261228', 'p20261229', 'p20261230', 'p20261231', 'p20270101', 'p20270102', 'p20270103', 'p20270104', 'p20270105', 'p20270106', 'p20270107'],
      analytics_daily: ['p202701', 'p202702', 'p202703'],
      analytics_monthly: ['p2027'],
    };
    expect(expectedAdds.analytics_realtime).toHaveLength(286);
    expect(expectedAdds.analytics_realtime.slice(117, 121)).toEqual(['p2026123122', 'p2026123123', 'p2027010100', 'p2027010101']);

    const plan = await service.plan();
    expect(plan.shards.map((shard) => shard.reachable)).toEqual([true, true]);
    for (const shard of plan.shards) {
      expect(Object.fromEntries(shard.tables.map((table) => [table.table, table.adds]))).toEqual(expectedAdds);
      for (const table of shard.tables) {
        expect(table.statements).toEqual([expect.stringMatching(new RegExp(`^ALTER TABLE ${table.table} REORGANIZE PARTITION pmax INTO \\(.*, PARTITION pmax VALUES LESS THAN MAXVALUE\\)$`))]);
      }
    }

    const applied = await service.apply();
    expect(applied.ok).toBe(true);
    expect(applied.shards.map((shard) => shard.outcome)).toEqual(['applied', 'applied']);
    const after = await snapshots();
    for (const [shard, tables] of after.entries()) {
      for (const table of TABLES) {
        expect(names(tables[table])).toEqual([...names(before[shard]![table]).slice(0, -1), ...expectedAdds[table], 'pmax']);
        expectContiguous(tables[table], GRANULARITY[table]);
      }
      const { analytics_realtime: raw, analytics_hourly: hourly, analytics_daily: daily, analytics_monthly: monthly } = tables;
      expect(rangeOf(raw, 'p2026123123')).toEqual({ from: '2026-12-31T23:00:00.000Z', to: '2027-01-01T00:00:00.000Z' });
      expect(rangeOf(raw, 'p2027010100')).toEqual({ from: '2027-01-01T00:00:00.000Z', to: '2027-01-01T01:00:00.000Z' });
      expect(rangeOf(raw, 'p2027010722')).toEqual({ from: '2027-01-07T22:00:00.000Z', to: '2027-01-07T23:00:00.000Z' });
      expect(rangeOf(hourly, 'p20261231')).toEqual({ from: '2026-12-31T00:00:00.000Z', to: '2027-01-01T00:00:00.000Z' });
      expect(rangeOf(hourly, 'p20270101')).toEqual({ from: '2027-01-01T00:00:00.000Z', to: '2027-01-02T00:00:00.000Z' });
      expect(rangeOf(daily, 'p202701')).toEqual({ from: '2027-01-01T00:00:00.000Z', to: '2027-02-01T00:00:00.000Z' });
      expect(rangeOf(daily, 'p202703')).toEqual({ from: '2027-03-01T00:00:00.000Z', to: '2027-04-01T00:00:00.000Z' });
      expect(rangeOf(monthly, 'p2027')).toEqual({ from: '2027-01-01T00:00:00.000Z', to: '2028-01-01T00:00:00.000Z' });
    }

    const again = await service.plan();
    expect(again.shards.flatMap((shard) => shard.tables.flatMap((table) => [...table.statements, ...table.warnings.map((warning) => warning.message)]))).toEqual([]);
    const reapplied = await service.apply();
    expect(reapplied.shards.map((shard) => [shard.outcome, shard.statements])).toEqual([
      ['up-to-date', []],
      ['up-to-date', []],
    ]);
    expect(await snapshots()).toEqual(after);
  });

  it('ten days on, adds the next week, then prunes the empty expired partitions and holds back the two new-year hours nobody rolled up', async () => {
    // Not rolled up on purpose: a prune must keep these two hours whatever their age.
    for (const [shard, rows] of NEW_YEAR_ROWS.entries()) {
      for (const [at, count] of [
        [new Date('2026-12-31T23:10:00Z'), rows.beforeMidnight],
        [new Date('2027-01-01T00:20:00Z'), rows.afterMidnight],
      ] as const) {
        await query(shard, `INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) SELECT seq % 3 + 1, ?, seq, '/new-year' FROM seq_1_to_${count}`, [at]);
      }
      expect([await rowsIn(shard, 'p2026123123'), await rowsIn(shard, 'p2027010100')]).toEqual([rows.beforeMidnight, rows.afterMidnight]);
    }

    // As the 04:00 maintenance job does: partitions ahead first, then the prune.
    const partitions = partitionsAt(LATER);
    const ahead = await partitions.apply();
    expect(ahead.shards.map((shard) => shard.outcome)).toEqual(['applied', 'applied']);
    const before = await snapshots();
    for (const tables of before) {
      expect(tables.analytics_realtime.at(-2)).toEqual({ name: 'p2027011705', to: new Date('2027-01-17T06:00:00Z') });
      expect(tables.analytics_hourly.at(-2)).toEqual({ name: 'p20270117', to: new Date('2027-01-18T00:00:00Z') });
    }

    const retention = retentionAt(LATER);
    const report = await retention.prune({ tables: ['analytics_realtime', 'analytics_hourly'] });
    await retention.dispose();
    expect(report.ok).toBe(true);
    const after = await snapshots();
    for (const [shard, rows] of NEW_YEAR_ROWS.entries()) {
      const tables = after[shard]!;
      const dropped = (table: Table) => names(before[shard]![table]).filter((name) => !names(tables[table]).includes(name));

      const raw = tableOf(report, shard, 'analytics_realtime');
      expect(raw.cutoff).toBe('2027-01-08T05:00:00Z');
      expect(names(tables.analytics_realtime.filter((partition) => partition.to && partition.to <= new Date(raw.cutoff)))).toEqual(['p2026123123', 'p2027010100']);
      expect(names(tables.analytics_realtime)).toEqual(['p2026123123', 'p2027010100', ...namesThrough(new Date('2027-01-08T05:00:00Z'), new Date('2027-01-17T05:00:00Z'), 'hour'), 'pmax']);
      expect(raw.drops.map((drop) => drop.name)).toEqual(dropped('analytics_realtime'));
      expect(raw.drops.map((drop) => drop.name)).toEqual(expect.arrayContaining(['p2026123122', 'p2027010101', 'p2027010804']));
      expect(raw.drops.every((drop) => drop.rows === 0)).toBe(true);
      expect(raw.deletes).toEqual([]);
      expect(raw.kept).toEqual([
        expect.objectContaining({ windowStart: '2026-12-31T23:00:00Z', windowEnd: '2027-01-01T00:00:00Z', reason: 'not-rolled-up', sourcePageViews: rows.beforeMidnight, nextLevelPageViews: 0 }),
        expect.objectContaining({ windowStart: '2027-01-01T00:00:00Z', windowEnd: '2027-01-01T01:00:00Z', reason: 'not-rolled-up', sourcePageViews: rows.afterMidnight, nextLevelPageViews: 0 }),
      ]);
      expect(raw.result).toMatchObject({ droppedPartitions: raw.drops.length, deletedRows: 0, complete: true });
      expect([await rowsIn(shard, 'p2026123123'), await rowsIn(shard, 'p2027010100')]).toEqual([rows.beforeMidnight, rows.afterMidnight]);
      expect(rangeOf(tables.analytics_realtime, 'p2027010100')).toEqual({ from: '2027-01-01T00:00:00.000Z', to: '2027-01-01T01:00:00.000Z' });

      const hourly = tableOf(report, shard, 'analytics_hourly');
      expect(hourly.cutoff).toBe('2027-01-03T05:00:00Z');
      expect(names(tables.analytics_hourly)).toEqual([...namesThrough(new Date('2027-01-03T00:00:00Z'), new Date('2027-01-17T00:00:00Z'), 'day'), 'pmax']);
      expect(hourly.drops.map((drop) => drop.name)).toEqual(dropped('analytics_hourly'));
      expect(hourly.drops.map((drop) => drop.name)).toEqual(expect.arrayContaining(['p20261231', 'p20270101', 'p20270102']));
      expect(hourly.kept).toEqual([]);

      for (const table of TABLES) expectNamedBounds(tables[table], GRANULARITY[table]);
      expect(tables.analytics_daily).toEqual(before[shard]!.analytics_daily);
      expect(tables.analytics_monthly).toEqual(before[shard]!.analytics_monthly);
    }

    // Nothing the partitions ahead need was dropped: at the same clock there is nothing to add.
    const replan = await partitions.plan();
    expect(replan.shards.flatMap((shard) => shard.tables.flatMap((table) => table.statements))).toEqual([]);
    expect((await partitions.apply()).shards.map((shard) => shard.outcome)).toEqual(['up-to-date', 'up-to-date']);
    expect(await snapshots()).toEqual(after);
  });

  it('drops the two new-year hours once they are rolled up, and the hourly rows keep every page view', async () => {
    const rolled = await cluster.services.rollup.runRange('hourly', BEFORE_MIDNIGHT, AFTER_MIDNIGHT, { trigger: 'manual' });
    expect(rolled.ok).toBe(true);
    for (const [shard, rows] of NEW_YEAR_ROWS.entries()) {
      expect(await hourlyPageViews(shard)).toEqual([
        [BEFORE_MIDNIGHT.toISOString(), rows.beforeMidnight],
        [MIDNIGHT.toISOString(), rows.afterMidnight],
      ]);
    }
    const before = await snapshots();

    const retention = retentionAt(LATER);
    const report = await retention.prune({ tables: ['analytics_realtime', 'analytics_hourly'] });
    await retention.dispose();
    expect(report.ok).toBe(true);
    const after = await snapshots();
    for (const [shard, rows] of NEW_YEAR_ROWS.entries()) {
      const raw = tableOf(report, shard, 'analytics_realtime');
      expect(raw.drops).toEqual([
        expect.objectContaining({ name: 'p2026123123', from: null, to: '2027-01-01T00:00:00Z', rows: rows.beforeMidnight }),
        expect.objectContaining({ name: 'p2027010100', from: '2027-01-01T00:00:00Z', to: '2027-01-01T01:00:00Z', rows: rows.afterMidnight }),
      ]);
      expect(raw.kept).toEqual([]);
      expect(names(after[shard]!.analytics_realtime)).toEqual(names(before[shard]!.analytics_realtime).filter((name) => name !== 'p2026123123' && name !== 'p2027010100'));
      expect(after[shard]!.analytics_realtime[0]?.name).toBe('p2027010805');
      const [left] = await query<Array<{ n: number | string }>>(shard, 'SELECT COUNT(*) AS n FROM analytics_realtime WHERE created_at < ?', [new Date('2027-01-08T05:00:00Z')]);
      expect(Number(left?.n)).toBe(0);

      // The hourly rows are expired too, but the daily rollup never ran: they stay, and so does their partition.
      const hourly = tableOf(report, shard, 'analytics_hourly');
      expect(hourly.drops).toEqual([]);
      expect(hourly.kept).toEqual([
        expect.objectContaining({ windowStart: '2026-12-31T00:00:00Z', reason: 'not-rolled-up', sourcePageViews: rows.beforeMidnight }),
        expect.objectContaining({ windowStart: '2027-01-01T00:00:00Z', reason: 'not-rolled-up', sourcePageViews: rows.afterMidnight }),
      ]);
      expect(after[shard]!.analytics_hourly).toEqual(before[shard]!.analytics_hourly);
      expect(await hourlyPageViews(shard)).toEqual([
        [BEFORE_MIDNIGHT.toISOString(), rows.beforeMidnight],
        [MIDNIGHT.toISOString(), rows.afterMidnight],
      ]);
    }
  });
});
