/**
 * The charts benchmark's data and its naive baselines.
 *
 * Every site gets rollup rows written straight into the tables by INSERT … SELECT over MariaDB's sequence tables
 * (no rows cross the wire), with a valid sparse visitor sketch per row: one entry per visitor, each the sketch's own
 * hash of a visitor id drawn from the site's pool, so a site's sketches overlap from period to period the way a
 * returning audience's do, and the row's `visitors` is its exact distinct count. The sample sites then get a year of
 * raw page views, and their rollup rows are rebuilt from those raw rows (GROUP BY, as the rollups count them; sketches
 * larger than the dense form are re-encoded dense in Node, as the rollups store them), so every naive chart over raw,
 * hourly or daily rows can be compared with Strata's chart of the same site.
 */
import type { ClusterConnections } from '../src/main/cluster/connections';
import { sessionSetupSql, DEFAULT_ROLLUP_TUNING } from '../src/main/rollup/planner';
import { moveWatermarkRow } from '../src/main/rollup/watermark';
import { DENSE_SKETCH_BYTES, SKETCH_SQL, SketchAccumulator, mergeSketches } from '../src/main/sketch/hll';
import { daysIn, viewsOnDaySql, type ChartsPlan, type SampleSite, type Span } from './charts-plan';

const pad = (value: number) => String(value).padStart(2, '0');
/** A UTC instant as a DATETIME/TIMESTAMP literal (every Strata session runs at time_zone +00:00). */
export const sqlTime = (at: Date) =>
  `${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())} ${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}`;
export const sqlDate = (at: Date) => sqlTime(at).slice(0, 10);

/** Site ids per statement of the bulk load: about 2,000 sites a shard, 730,000 daily rows. */
const SITE_BATCH = 4000;
const DAY = 86_400_000;

interface AggregateShape {
  table: 'analytics_hourly' | 'analytics_daily' | 'analytics_monthly';
  column: string;
  start: string;
  unit: 'HOUR' | 'DAY' | 'MONTH';
  periods: number;
  /** Most entries a row's sketch has; `visitors` is 0…max-1 more than `minVisitors`. */
  minVisitors: number;
  maxVisitors: number;
  /** Page views from the site and period columns and the visitor count k. */
  pageViews: string;
}

function shapes(plan: ChartsPlan): AggregateShape[] {
  const months = (plan.monthly.to.getUTCFullYear() - plan.monthly.from.getUTCFullYear()) * 12 + plan.monthly.to.getUTCMonth() - plan.monthly.from.getUTCMonth();
  return [
    { table: 'analytics_hourly', column: 'hour_start', start: `TIMESTAMP'${sqlTime(plan.hourly.from)}'`, unit: 'HOUR', periods: (plan.hourly.to.getTime() - plan.hourly.from.getTime()) / 3_600_000, minVisitors: 1, maxVisitors: 3, pageViews: 'k + (site * 7 + period * 13) % 17' },
    { table: 'analytics_daily', column: 'date', start: `DATE'${sqlDate(plan.daily.from)}'`, unit: 'DAY', periods: daysIn(plan.daily), minVisitors: 2, maxVisitors: 8, pageViews: 'k * 3 + (site * 11 + period * 7) % 120' },
    { table: 'analytics_monthly', column: 'month_start', start: `DATE'${sqlDate(plan.monthly.from)}'`, unit: 'MONTH', periods: months, minVisitors: 8, maxVisitors: 32, pageViews: 'k * 30 + (site * 13 + period * 3) % 3000' },
  ];
}

/** One batch of one table's rows for the sites first, first + step, … up to last (all on one shard). */
function aggregateInsertSql(shape: AggregateShape, first: number, last: number, step: number): string {
  const span = shape.maxVisitors - shape.minVisitors + 1;
  // Visitor j of a row: distinct for j < k because 104729 is a prime above every pool size.
  const visitor = (j: number) => `site * 10000000 + (period * 7919 + ${j * 104729} + site) % pool`;
  const entries = Array.from({ length: shape.maxVisitors }, (_, j) => SKETCH_SQL.entry(visitor(j))).join(', ');
  return `INSERT INTO ${shape.table} (site_id, ${shape.column}, page_views, visitors, visitors_sketch)
SELECT site, ${shape.start} + INTERVAL period ${shape.unit}, ${shape.pageViews}, k, LEFT(CONCAT(${SKETCH_SQL.header}, ${entries}), 2 + 4 * k)
  FROM (SELECT s.seq AS site, p.seq AS period, ${shape.minVisitors} + (s.seq * 3 + p.seq) % ${span} AS k, 40 + s.seq * 7907 % 1961 AS pool
          FROM seq_${first}_to_${last}_step_${step} s STRAIGHT_JOIN seq_0_to_${shape.periods - 1} p) AS g`;
}

export interface LoadProgress {
  (line: string): void;
}

/** The rollup rows of every site 1..plan.sites, each shard its own sites, shards in parallel. */
export async function loadAggregates(connections: ClusterConnections, plan: ChartsPlan, progress: LoadProgress): Promise<void> {
  const count = connections.shards.length;
  for (const shape of shapes(plan)) {
    const started = performance.now();
    await Promise.all(
      connections.shards.map(async (shard) => {
        for (let from = 1; from <= plan.sites; from += SITE_BATCH) {
          const to = Math.min(plan.sites, from + SITE_BATCH - 1);
          const first = from + ((shard.index - (from % count) + count) % count);
          if (first > to) continue;
          await connections.query(shard.index, aggregateInsertSql(shape, first, to, count), [], { kind: 'write' });
        }
      }),
    );
    progress(`${shape.table}: ${(plan.sites * shape.periods).toLocaleString('en-US')} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
}

/** A sample site's raw page views over plan.raw, in chunks of 31 days (a heavy site's month is 155,000 rows). */
async function loadRaw(connections: ClusterConnections, plan: ChartsPlan, site: SampleSite): Promise<void> {
  const shard = connections.shardOfSite(site.siteId).index;
  const days = daysIn(plan.raw);
  const most = Math.ceil((site.viewsPerDay * 125) / 100);
  for (let first = 0; first < days; first += 31) {
    const last = Math.min(days - 1, first + 30);
    await connections.query(
      shard,
      `INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path, referrer)
SELECT ${site.siteId}, at, ${site.siteId} * 100000000 + CRC32(CONCAT_WS(',', ${site.siteId}, day, view)) % ${site.visitorPool}, CONCAT('/page/', view % 40), NULL
  FROM (SELECT d.seq AS day, i.seq AS view, TIMESTAMP'${sqlTime(plan.raw.from)}' + INTERVAL d.seq DAY + INTERVAL (i.seq * 86400) DIV ${viewsOnDaySql(site, 'd.seq')} SECOND AS at
          FROM seq_${first}_to_${last} d STRAIGHT_JOIN seq_0_to_${most - 1} i
         WHERE i.seq < ${viewsOnDaySql(site, 'd.seq')}) AS g
 WHERE at < TIMESTAMP'${sqlTime(plan.raw.to)}'`,
      [],
      { kind: 'write' },
    );
  }
}

const ROLLUPS_FROM_RAW = [
  { table: 'analytics_hourly', column: 'hour_start', period: "DATE_FORMAT(created_at, '%Y-%m-%d %H:00:00')", span: (plan: ChartsPlan) => plan.sampleHourly },
  { table: 'analytics_daily', column: 'date', period: 'DATE(created_at)', span: (plan: ChartsPlan): Span => ({ from: plan.raw.from, to: plan.todayStart }) },
  { table: 'analytics_monthly', column: 'month_start', period: "DATE_FORMAT(created_at, '%Y-%m-01')", span: (plan: ChartsPlan): Span => ({ from: plan.raw.from, to: plan.monthStart }) },
] as const;

/**
 * The sample's raw rows, then its rollup rows rebuilt from them: every hourly row of the sample over 30 days, every
 * daily row, and the monthly rows of the months the raw rows cover (the older months keep their bulk rows).
 */
export async function loadSample(connections: ClusterConnections, plan: ChartsPlan, progress: LoadProgress): Promise<{ rawRows: number; densified: number }> {
  const started = performance.now();
  await Promise.all(
    connections.shards.map(async (shard) => {
      for (const site of plan.sample) if (connections.shardOfSite(site.siteId).index === shard.index) await loadRaw(connections, plan, site);
    }),
  );
  const counted = await Promise.all(
    connections.shards.map((shard) => connections.query<Array<{ n: number | string }>>(shard.index, 'SELECT COUNT(*) AS n FROM analytics_realtime', [], { kind: 'write' })),
  );
  const rawRows = counted.reduce((sum, rows) => sum + Number(rows[0]?.n ?? 0), 0);
  progress(`analytics_realtime: ${rawRows.toLocaleString('en-US')} raw rows for ${plan.sample.length} sample sites in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const rebuilt = performance.now();
  const densified = await Promise.all(
    connections.shards.map(async (shard) => {
      const sites = plan.sample.filter((site) => connections.shardOfSite(site.siteId).index === shard.index).map((site) => site.siteId);
      if (sites.length === 0) return 0;
      const session = await connections.session(shard.index);
      let dense = 0;
      try {
        for (const sql of sessionSetupSql(DEFAULT_ROLLUP_TUNING.sessionTempTableBytes)) await session.query(sql);
        for (const level of ROLLUPS_FROM_RAW) {
          const span = level.span(plan);
          await session.query(`DELETE FROM ${level.table} WHERE site_id IN (?) AND ${level.column} >= ?`, [sites, sqlTime(level.table === 'analytics_monthly' ? span.from : new Date(0))], { kind: 'write' });
          await session.query(
            `INSERT INTO ${level.table} (site_id, ${level.column}, page_views, visitors, visitors_sketch)
SELECT site_id, ${level.period}, COUNT(*), COUNT(DISTINCT visitor_id), CONCAT(${SKETCH_SQL.header}, GROUP_CONCAT(DISTINCT ${SKETCH_SQL.entry('visitor_id')} SEPARATOR ''))
  FROM analytics_realtime WHERE site_id IN (?) AND created_at >= ? AND created_at < ?
 GROUP BY site_id, ${level.period}`,
            [sites, sqlTime(span.from), sqlTime(span.to)],
            { kind: 'write' },
          );
          const oversized = await session.query<Array<{ site_id: number; period: Date | string; visitors_sketch: Buffer }>>(
            `SELECT site_id, ${level.column} AS period, visitors_sketch FROM ${level.table} WHERE site_id IN (?) AND LENGTH(visitors_sketch) > ${DENSE_SKETCH_BYTES}`,
            [sites],
            { kind: 'write' },
          );
          for (const row of oversized) {
            await session.query(`UPDATE ${level.table} SET visitors_sketch = ? WHERE site_id = ? AND ${level.column} = ?`, [mergeSketches([row.visitors_sketch]), row.site_id, row.period], { kind: 'write' });
          }
          dense += oversized.length;
        }
      } finally {
        session.destroy();
      }
      return dense;
    }),
  );
  const total = densified.reduce((sum, value) => sum + value, 0);
  progress(`sample rollups rebuilt from raw (hourly over 30 days, daily, monthly; ${total} sketches stored dense) in ${((performance.now() - rebuilt) / 1000).toFixed(1)} s`);
  return { rawRows, densified: total };
}

/** Each level complete up to the plan's boundaries on every shard, as if the rollups had caught up. */
export async function setWatermarks(connections: ClusterConnections, plan: ChartsPlan): Promise<void> {
  const levels = [
    { level: 'hourly', to: plan.hourStart, coveredFrom: plan.raw.from },
    { level: 'daily', to: plan.todayStart, coveredFrom: plan.raw.from },
    { level: 'monthly', to: plan.monthStart, coveredFrom: plan.monthly.from },
  ] as const;
  await Promise.all(
    connections.shards.map(async (shard) => {
      const query = (sql: string, params?: unknown[]) => connections.query(shard.index, sql, params ?? []);
      for (const { level, to, coveredFrom } of levels) await moveWatermarkRow(query, { level, to, coveredFrom, by: 'bench charts', at: new Date() });
    }),
  );
}

/** Data size of the analytics tables per shard, from information_schema (estimates, as InnoDB keeps them). */
export async function tableSizes(connections: ClusterConnections): Promise<Array<{ shard: number; table: string; rows: number; bytes: number }>> {
  await Promise.all(
    connections.shards.map((shard) =>
      connections.query(shard.index, 'ANALYZE TABLE analytics_realtime, analytics_hourly, analytics_daily, analytics_monthly', [], { kind: 'write' }),
    ),
  );
  const perShard = await Promise.all(
    connections.shards.map(async (shard) => {
      const rows = await connections.query<Array<{ table_name: string; table_rows: number | string; bytes: number | string }>>(
        shard.index,
        `SELECT TABLE_NAME AS table_name, TABLE_ROWS AS table_rows, DATA_LENGTH + INDEX_LENGTH AS bytes FROM information_schema.TABLES
          WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ('analytics_realtime', 'analytics_hourly', 'analytics_daily', 'analytics_monthly') ORDER BY TABLE_NAME`,
      );
      return rows.map((row) => ({ shard: shard.index, table: row.table_name, rows: Number(row.table_rows), bytes: Number(row.bytes) }));
    }),
  );
  return perShard.flat();
}

// ---------------------------------------------------------------------------------------------------------------
// The naive application: the same charts without Strata's table choice, sketches or cache

export interface NaiveChart {
  points: number;
  pageViews: number;
  /** Visitors as a naive chart totals them: the sum of its periods' visitors (a visitor of two days counts twice). */
  summedVisitors: number;
}

/** The naive form of each chart: 24 h from raw, 30 days summing hourly rows, a year summing daily rows, 5 years of monthly rows. */
export const NAIVE_SQL = {
  '24h': `SELECT DATE_FORMAT(created_at, '%Y-%m-%d %H:00:00') AS period, COUNT(*) AS page_views, COUNT(DISTINCT visitor_id) AS visitors
            FROM analytics_realtime WHERE site_id = ? AND created_at >= ? AND created_at < ? GROUP BY period ORDER BY period`,
  '30d': `SELECT DATE(hour_start) AS period, SUM(page_views) AS page_views, SUM(visitors) AS visitors
            FROM analytics_hourly WHERE site_id = ? AND hour_start >= ? AND hour_start < ? GROUP BY period ORDER BY period`,
  '1y': `SELECT DATE_FORMAT(date, '%Y-%m-01') AS period, SUM(page_views) AS page_views, SUM(visitors) AS visitors
            FROM analytics_daily WHERE site_id = ? AND date >= ? AND date < ? GROUP BY period ORDER BY period`,
  '5y': `SELECT month_start AS period, page_views, visitors
            FROM analytics_monthly WHERE site_id = ? AND month_start >= ? AND month_start < ? ORDER BY month_start`,
} as const;

export async function naiveChart(connections: ClusterConnections, chart: keyof typeof NAIVE_SQL, siteId: number, span: Span): Promise<NaiveChart> {
  const rows = await connections.query<Array<{ page_views: number | string; visitors: number | string }>>(connections.shardOfSite(siteId).index, NAIVE_SQL[chart], [
    siteId,
    sqlTime(span.from),
    sqlTime(span.to),
  ]);
  return {
    points: rows.length,
    pageViews: rows.reduce((sum, row) => sum + Number(row.page_views), 0),
    summedVisitors: rows.reduce((sum, row) => sum + Number(row.visitors), 0),
  };
}

/** Exact distinct visitors of a site over a span, from its raw rows. */
export async function exactVisitors(connections: ClusterConnections, siteId: number, span: Span): Promise<number> {
  const [row] = await connections.query<Array<{ visitors: number | string }>>(
    connections.shardOfSite(siteId).index,
    'SELECT COUNT(DISTINCT visitor_id) AS visitors FROM analytics_realtime WHERE site_id = ? AND created_at >= ? AND created_at < ?',
    [siteId, sqlTime(span.from), sqlTime(span.to)],
  );
  return Number(row?.visitors ?? 0);
}

/** The merge itself, outside Strata: read a span's daily sketches of a site and merge them in this process. */
export async function mergedDailyVisitors(connections: ClusterConnections, siteId: number, span: Span, accumulator = new SketchAccumulator()): Promise<{ visitors: number; sketchBytes: number }> {
  const rows = await connections.query<Array<{ visitors_sketch: Buffer | null }>>(
    connections.shardOfSite(siteId).index,
    'SELECT visitors_sketch FROM analytics_daily WHERE site_id = ? AND date >= ? AND date < ?',
    [siteId, sqlDate(span.from), sqlDate(span.to)],
  );
  accumulator.reset();
  let sketchBytes = 0;
  for (const row of rows) {
    if (!row.visitors_sketch) continue;
    sketchBytes += row.visitors_sketch.length;
    accumulator.merge(row.visitors_sketch);
  }
  return { visitors: accumulator.estimate(), sketchBytes };
}

/** Days between two instants, for labels. */
export const daysBetween = (span: Span) => Math.round((span.to.getTime() - span.from.getTime()) / DAY);
