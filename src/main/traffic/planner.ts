import { ErrorCode, StrataError } from '../../shared/errors';
import { EARLIEST_TIME, latestTime, parseIsoUtc } from '../../shared/iso-time';
import type { RetentionPolicy, RollupLevel } from '../../shared/rollup';
import type { TrafficPoint, TrafficScope, TrafficTable } from '../../shared/traffic';
import { periodStart, shiftPeriod } from '../schema/partitions';
import { SKETCH_SQL, SketchAccumulator } from '../sketch/hll';

/**
 * The chart planner: which table a range reads (as the application chooses it, and as retention still holds it),
 * the windows each shard has not rolled up yet at that level, the SQL of each part, and the folding of the rows
 * into a series and totals. Pure: no connections, no clock of its own.
 */

export type ChartGranularity = 'hour' | 'day' | 'month';

export interface ChartLevel {
  level: RollupLevel;
  table: TrafficTable;
  column: string;
  granularity: ChartGranularity;
}

export const CHART_LEVELS: Record<RollupLevel, ChartLevel> = {
  hourly: { level: 'hourly', table: 'analytics_hourly', column: 'hour_start', granularity: 'hour' },
  daily: { level: 'daily', table: 'analytics_daily', column: 'date', granularity: 'day' },
  monthly: { level: 'monthly', table: 'analytics_monthly', column: 'month_start', granularity: 'month' },
};
const ORDER: RollupLevel[] = ['hourly', 'daily', 'monthly'];

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** The application reads hourly rows for charts under 3 days. */
export const HOURLY_BELOW_MS = 3 * DAY_MS;
/**
 * Long history: a range longer than 366 days reads monthly rows. A year (365 days, 366 in a leap year) still reads
 * daily rows, as the application's 1-year chart does; anything longer reads months.
 */
export const DAILY_UP_TO_MS = 366 * DAY_MS;

/** The range of a request as dates, checked: valid ISO UTC, from before to, from 2000 on, to at most a year ahead. */
export function parseRange(from: string, to: string, now: Date): { from: Date; to: Date } {
  const parsed = [from, to].map((text, index) => {
    const result = parseIsoUtc(text);
    const name = index === 0 ? 'from' : 'to';
    if (!result.ok) throw new StrataError(ErrorCode.TrafficInvalid, `${name} ${JSON.stringify(text)} is not an ISO-8601 UTC time (2026-11-30, 2026-11-30T05:00Z)`);
    if (result.date < EARLIEST_TIME) throw new StrataError(ErrorCode.TrafficInvalid, `${name} ${text} is before ${EARLIEST_TIME.toISOString().slice(0, 10)}`);
    if (result.date > latestTime(now)) throw new StrataError(ErrorCode.TrafficInvalid, `${name} ${text} is more than a year from now`);
    return result.date;
  }) as [Date, Date];
  if (parsed[0] >= parsed[1]) throw new StrataError(ErrorCode.TrafficInvalid, `from (${parsed[0].toISOString()}) must be before to (${parsed[1].toISOString()})`);
  return { from: parsed[0], to: parsed[1] };
}

/** The first period start at or after `at`. */
export function ceilTo(at: Date, granularity: ChartGranularity): Date {
  const start = periodStart(at, granularity);
  return start.getTime() === at.getTime() ? start : shiftPeriod(start, granularity, 1);
}

/**
 * The oldest period start a level still holds whole under the retention policy. A prune removes a level's rows in
 * windows of the next level (a day of hourly rows, a month of daily rows) once the whole window is past the cutoff,
 * so the window holding the cutoff is still there.
 */
export function heldFrom(level: RollupLevel | 'raw', now: Date, retention: RetentionPolicy): Date {
  switch (level) {
    case 'raw':
      return periodStart(new Date(now.getTime() - retention.rawHours * HOUR_MS), 'hour');
    case 'hourly':
      return periodStart(new Date(now.getTime() - retention.hourlyDays * DAY_MS), 'day');
    case 'daily':
      return periodStart(new Date(now.getTime() - retention.dailyDays * DAY_MS), 'month');
    case 'monthly':
      return shiftPeriod(periodStart(now, 'month'), 'month', -retention.monthlyMonths);
  }
}

export interface TableChoice extends ChartLevel {
  /** The range widened to whole periods of the table. */
  from: Date;
  to: Date;
  reason: string;
}

const day = (at: Date) => at.toISOString().slice(0, 10);
function spanText(ms: number): string {
  if (ms < 2 * DAY_MS) return `${Math.round(ms / HOUR_MS)} h`;
  return `${Math.round((ms / DAY_MS) * 10) / 10} days`;
}

/**
 * The table a range reads: by its length as the application chooses (under 3 days hourly, up to 366 days daily,
 * longer monthly), then moved up a level while the chosen one no longer holds the range's start (a 2-day range from
 * 10 days ago has no hourly rows left: daily). Monthly is the last level: a range older than it holds is read there
 * and the reason says from when rows exist.
 */
export function chooseTable(from: Date, to: Date, now: Date, retention: RetentionPolicy): TableChoice {
  const span = to.getTime() - from.getTime();
  const byRange: RollupLevel = span < HOURLY_BELOW_MS ? 'hourly' : span <= DAILY_UP_TO_MS ? 'daily' : 'monthly';
  const rangeReason = {
    hourly: `the range is ${spanText(span)}, under 3 days: hourly rows`,
    daily: `the range is ${spanText(span)}, from 3 days up to a year: daily rows`,
    monthly: `the range is ${spanText(span)}, longer than a year: monthly rows`,
  }[byRange];
  let level = byRange;
  const moves: string[] = [];
  while (level !== 'monthly') {
    const spec = CHART_LEVELS[level];
    const held = heldFrom(level, now, retention);
    if (periodStart(from, spec.granularity) >= held) break;
    const next = ORDER[ORDER.indexOf(level) + 1]!;
    const kept = level === 'hourly' ? `${retention.hourlyDays} days` : `${retention.dailyDays} days`;
    moves.push(`${level} rows are kept ${kept} (from ${day(held)}), the range starts ${day(from)}: ${next} rows`);
    level = next;
  }
  const spec = CHART_LEVELS[level];
  const alignedFrom = periodStart(from, spec.granularity);
  let reason = [rangeReason, ...moves].join('; ');
  if (level === 'monthly') {
    const held = heldFrom('monthly', now, retention);
    if (alignedFrom < held) reason += `; monthly rows are kept ${retention.monthlyMonths} months, so nothing before ${day(held)}`;
  }
  return { ...spec, from: alignedFrom, to: ceilTo(to, spec.granularity), reason };
}

/** Each level's watermark on one shard (the exclusive end of what it rolled up), null where it never ran. */
export type ShardWatermarks = Record<RollupLevel, Date | null>;

/** One part of a chart read: a table (or raw rows) over [from, to), grouped to the chart's period. */
export interface ChartSegment {
  source: TrafficTable | 'analytics_realtime';
  from: Date;
  to: Date;
  /** From a level below the chart's table: not rolled up at its level yet. */
  provisional: boolean;
}

export interface ShardChartPlan {
  segments: ChartSegment[];
  /**
   * Where the range's visitors come from: the fewest sketches that tile it, i.e. whole months from monthly rows,
   * whole days from daily rows, whole hours from hourly rows, each up to its level's watermark, raw rows for the
   * rest. A year read by day merges about 12 monthly and 30 daily sketches instead of 365.
   */
  tiles?: ChartSegment[];
  /** Where this shard's provisional windows begin (the table's watermark), when the range reaches past it. */
  provisionalFrom: Date | null;
}

const clamp = (at: Date, low: Date, high: Date) => new Date(Math.min(Math.max(at.getTime(), low.getTime()), high.getTime()));

/**
 * The parts one shard's chart reads: the chart's table up to its watermark, then each level below from where the
 * one above stops up to its own watermark, and raw rows for the rest, so windows not rolled up yet (the current
 * hour, a day before its 02:00 run, a shard whose watermark lags) still count and are marked provisional. The cuts
 * are watermarks, i.e. period starts of the level they end; raw rows are grouped by the chart's period in the shard.
 */
export function planShard(choice: Pick<TableChoice, 'level' | 'from' | 'to'>, watermarks: ShardWatermarks): ShardChartPlan {
  const levels = ORDER.slice(0, ORDER.indexOf(choice.level) + 1).reverse();
  const segments: ChartSegment[] = [];
  let cursor = choice.from;
  let provisionalFrom: Date | null = null;
  levels.forEach((level, index) => {
    const watermark = watermarks[level];
    const end = watermark ? clamp(watermark, cursor, choice.to) : cursor;
    if (index === 0 && end < choice.to) provisionalFrom = periodStart(end, CHART_LEVELS[choice.level].granularity);
    if (end > cursor) segments.push({ source: CHART_LEVELS[level].table, from: cursor, to: end, provisional: index > 0 });
    cursor = end;
  });
  if (cursor < choice.to) segments.push({ source: 'analytics_realtime', from: cursor, to: choice.to, provisional: true });
  return { segments, tiles: planVisitorTiles(choice.from, choice.to, watermarks), provisionalFrom };
}

const COARSEST_FIRST: RollupLevel[] = ['monthly', 'daily', 'hourly'];

/**
 * The visitor tiles of [from, to) on one shard (see ShardChartPlan.tiles): at each level, the whole periods inside
 * the part left over by the level above and before the level's watermark; what is left at either end goes to the
 * level below, and raw rows take whatever no level covers.
 */
export function planVisitorTiles(from: Date, to: Date, watermarks: ShardWatermarks, depth = 0): ChartSegment[] {
  if (from >= to) return [];
  const level = COARSEST_FIRST[depth];
  if (!level) return [{ source: 'analytics_realtime', from, to, provisional: false }];
  const { granularity, table } = CHART_LEVELS[level];
  const watermark = watermarks[level];
  const start = ceilTo(from, granularity);
  let end = periodStart(to, granularity);
  if (!watermark) end = start;
  else if (watermark < end) end = periodStart(watermark, granularity);
  if (start >= end) return planVisitorTiles(from, to, watermarks, depth + 1);
  return [...planVisitorTiles(from, start, watermarks, depth + 1), { source: table, from: start, to: end, provisional: false }, ...planVisitorTiles(end, to, watermarks, depth + 1)];
}

/** Distinct visitor hashes of one site's raw rows in [from, to), for a sketch GROUP_CONCAT cut. Params: site, from, to. */
export function rawHashesSql(): string {
  return `SELECT DISTINCT ${SKETCH_SQL.hash('visitor_id')} AS h FROM analytics_realtime WHERE site_id = ? AND created_at >= ? AND created_at < ?`;
}

/** Session length of GROUP_CONCAT for raw sketches: 4 MiB entries of 4 bytes, about a million distinct visitors. */
export const CHART_GROUP_CONCAT_BYTES = 4 * 1024 * 1024;

/** The period start of a source column grouped to the chart's granularity, in epoch seconds. */
export function bucketSql(column: string, granularity: ChartGranularity): string {
  return {
    hour: `UNIX_TIMESTAMP(DATE_FORMAT(${column}, '%Y-%m-%d %H:00:00'))`,
    day: `UNIX_TIMESTAMP(DATE(${column}))`,
    month: `UNIX_TIMESTAMP(DATE_FORMAT(${column}, '%Y-%m-01'))`,
  }[granularity];
}

/** Which sites a statement reads: one, a list (the top sites), or all of the shard's. */
export type SiteFilter = { kind: 'site'; siteId: number } | { kind: 'sites'; siteIds: number[] } | { kind: 'all' };

function siteWhere(filter: SiteFilter): { sql: string; params: unknown[] } {
  if (filter.kind === 'site') return { sql: 'site_id = ? AND ', params: [filter.siteId] };
  if (filter.kind === 'sites') return { sql: 'site_id IN (?) AND ', params: [filter.siteIds] };
  return { sql: '', params: [] };
}

/**
 * One segment's rows, one per site and period of the chart: rolled-up rows as stored (several rows of a lower level
 * map to one period, so they bring their sketches to be merged; the chart table's own rows are one per period and
 * need none), raw rows grouped in the shard with exact distinct visitors and a sketch of the distinct visitor
 * hashes. Columns: site_id, t (period start, epoch s), page_views, visitors, sketch, provisional, is_raw, part (0).
 * The range is a sargable bound on the table's own column.
 */
export function segmentSql(segment: ChartSegment, granularity: ChartGranularity, filter: SiteFilter, options: { withSketch?: boolean } = {}): { sql: string; params: unknown[] } {
  const where = siteWhere(filter);
  const flag = segment.provisional ? 1 : 0;
  if (segment.source === 'analytics_realtime') {
    return {
      sql: `SELECT site_id, ${bucketSql('created_at', granularity)} AS t, COUNT(*) AS page_views, COUNT(DISTINCT visitor_id) AS visitors,
       CONCAT(${SKETCH_SQL.header}, GROUP_CONCAT(DISTINCT ${SKETCH_SQL.entry('visitor_id')} SEPARATOR '')) AS sketch, ${flag} AS provisional, 1 AS is_raw, 0 AS part
  FROM analytics_realtime WHERE ${where.sql}created_at >= ? AND created_at < ? GROUP BY site_id, t`,
      params: [...where.params, segment.from, segment.to],
    };
  }
  const column = columnOf(segment.source);
  if (filter.kind === 'all' && !segment.provisional && !options.withSketch) {
    // A whole shard's rows of the chart table: summed per period in the shard, one row a period instead of one a
    // site and period (site_id -1 marks the sum; visitors are per-site uniques summed, as the chart means them).
    return {
      sql: `SELECT ${SUMMED_SITE} AS site_id, ${bucketSql(column, granularity)} AS t, SUM(page_views) AS page_views, SUM(visitors) AS visitors, NULL AS sketch, 0 AS provisional, 0 AS is_raw, 0 AS part
  FROM ${segment.source} WHERE ${column} >= ? AND ${column} < ? GROUP BY t`,
      params: [segment.from, segment.to],
    };
  }
  const sketch = (options.withSketch ?? segment.provisional) ? 'visitors_sketch' : 'NULL';
  return {
    sql: `SELECT site_id, ${bucketSql(column, granularity)} AS t, page_views, visitors, ${sketch} AS sketch, ${flag} AS provisional, 0 AS is_raw, 0 AS part
  FROM ${segment.source} WHERE ${where.sql}${column} >= ? AND ${column} < ?`,
    params: [...where.params, segment.from, segment.to],
  };
}

/** The site_id of a row that sums every site of a shard for one period. */
export const SUMMED_SITE = -1;

function columnOf(source: ChartSegment['source']): string {
  return source === 'analytics_realtime' ? 'created_at' : Object.values(CHART_LEVELS).find((spec) => spec.table === source)!.column;
}

/**
 * One visitor tile's rows (part 1): a site's rows with their sketches, or for raw rows one row per site with the
 * sketch of its distinct visitor hashes over the tile; t is the tile's start (epoch s).
 */
export function tileSql(tile: ChartSegment, filter: SiteFilter): { sql: string; params: unknown[] } {
  const where = siteWhere(filter);
  const start = Math.floor(tile.from.getTime() / 1000);
  if (tile.source === 'analytics_realtime') {
    return {
      sql: `SELECT site_id, ${start} AS t, COUNT(*) AS page_views, COUNT(DISTINCT visitor_id) AS visitors,
       CONCAT(${SKETCH_SQL.header}, GROUP_CONCAT(DISTINCT ${SKETCH_SQL.entry('visitor_id')} SEPARATOR '')) AS sketch, 0 AS provisional, 1 AS is_raw, 1 AS part
  FROM analytics_realtime WHERE ${where.sql}created_at >= ? AND created_at < ? GROUP BY site_id`,
      params: [...where.params, tile.from, tile.to],
    };
  }
  const column = columnOf(tile.source);
  return {
    sql: `SELECT site_id, ${start} AS t, page_views, visitors, visitors_sketch AS sketch, 0 AS provisional, 0 AS is_raw, 1 AS part
  FROM ${tile.source} WHERE ${where.sql}${column} >= ? AND ${column} < ?`,
    params: [...where.params, tile.from, tile.to],
  };
}

/**
 * Every segment of a shard's plan and its visitor tiles as one statement (UNION ALL), so a chart costs one round
 * trip per shard after its watermarks.
 */
export function chartSql(plan: ShardChartPlan, granularity: ChartGranularity, filter: SiteFilter): { sql: string; params: unknown[] } | null {
  if (plan.segments.length === 0) return null;
  const parts = [...plan.segments.map((segment) => segmentSql(segment, granularity, filter)), ...(plan.tiles ?? []).map((tile) => tileSql(tile, filter))];
  return { sql: parts.map((part) => `(${part.sql})`).join('\nUNION ALL\n'), params: parts.flatMap((part) => part.params) };
}

/** A shard's busiest sites over the plan's segments by page views: site_id, page_views; params end with the limit. */
export function topSitesSql(plan: ShardChartPlan, limit: number): { sql: string; params: unknown[] } | null {
  if (plan.segments.length === 0) return null;
  const parts = plan.segments.map((segment) => {
    const isRaw = segment.source === 'analytics_realtime';
    const column = isRaw ? 'created_at' : Object.values(CHART_LEVELS).find((spec) => spec.table === segment.source)!.column;
    return { sql: `SELECT site_id, ${isRaw ? 'COUNT(*)' : 'SUM(page_views)'} AS page_views FROM ${segment.source} WHERE ${column} >= ? AND ${column} < ? GROUP BY site_id`, params: [segment.from, segment.to] };
  });
  return {
    sql: `SELECT site_id, SUM(page_views) AS page_views FROM (${parts.map((part) => part.sql).join(' UNION ALL ')}) AS parts GROUP BY site_id ORDER BY page_views DESC, site_id LIMIT ?`,
    params: [...parts.flatMap((part) => part.params), limit],
  };
}

/**
 * The busiest sites of the last 24 hours on a shard, optionally those whose id contains some digits: hourly rows up
 * to the hourly watermark and raw rows after. Params: since, watermark, watermark, [pattern], limit.
 */
export function busiestSitesSql(withSearch: boolean): string {
  const match = withSearch ? 'WHERE CAST(site_id AS CHAR) LIKE ?' : '';
  return `SELECT site_id, SUM(page_views) AS page_views FROM (
  SELECT site_id, SUM(page_views) AS page_views FROM analytics_hourly WHERE hour_start >= ? AND hour_start < ? GROUP BY site_id
  UNION ALL
  SELECT site_id, COUNT(*) FROM analytics_realtime WHERE created_at >= ? GROUP BY site_id
) AS recent ${match} GROUP BY site_id ORDER BY page_views DESC, site_id LIMIT ?`;
}

/** One row of chartSql as the driver returns it. */
export interface ChartRow {
  site_id: number | string;
  t: number | string;
  page_views: number | string;
  visitors: number | string;
  sketch: Buffer | Uint8Array | null;
  provisional: number | string;
  is_raw: number | string;
  /** 0: a series row; 1: a visitor tile's row (see ShardChartPlan.tiles). */
  part?: number | string;
}

/**
 * Raw rows whose sketch GROUP_CONCAT cut short (more distinct visitors than the session's group_concat_max_len
 * holds): their hashes must be read one per row instead.
 */
export function isCutSketch(row: ChartRow): boolean {
  if (Number(row.is_raw) !== 1 || !row.sketch) return false;
  return row.sketch.length !== 2 + 4 * Number(row.visitors);
}

export interface FoldedChart {
  series: TrafficPoint[];
  totals: { pageViews: number; visitors: number };
  /** Per site: page views and unique visitors over the whole range (merged sketches). */
  sites: Map<number, { pageViews: number; visitors: number }>;
}

interface Cell {
  pageViews: number;
  visitors: number;
  sketches: Uint8Array[];
  rows: number;
  provisional: boolean;
}

/**
 * Folds every shard's rows into the series (one point per period from `from` up to `until`, zeros where no site
 * had traffic, so a gap shows as a gap) and the totals. A site's visitors in a period are its row's visitors when
 * one row makes it, else the merge of its rows' sketches; over the range they are the merge of its visitor tiles'
 * sketches (or, without tiles, of all its series rows'), never a sum. A period is provisional from its shard's
 * `provisionalFrom` on (any shard's, for a cluster).
 */
export function foldRows(
  rows: Iterable<ChartRow>,
  options: { granularity: ChartGranularity; from: Date; until: Date; provisionalFrom: readonly (Date | null)[] },
): FoldedChart {
  const bySite = new Map<number, Map<number, Cell>>();
  const tilesBySite = new Map<number, Cell>();
  for (const row of rows) {
    const site = Number(row.site_id);
    let cell: Cell | undefined;
    if (Number(row.part ?? 0) === 1) {
      cell = tilesBySite.get(site);
      if (!cell) tilesBySite.set(site, (cell = { pageViews: 0, visitors: 0, sketches: [], rows: 0, provisional: false }));
    } else {
      const t = Number(row.t);
      let cells = bySite.get(site);
      if (!cells) bySite.set(site, (cells = new Map()));
      cell = cells.get(t);
      if (!cell) cells.set(t, (cell = { pageViews: 0, visitors: 0, sketches: [], rows: 0, provisional: false }));
    }
    cell.pageViews += Number(row.page_views);
    cell.visitors += Number(row.visitors);
    cell.rows += 1;
    cell.provisional ||= Number(row.provisional) === 1;
    if (row.sketch && row.sketch.length > 0) cell.sketches.push(row.sketch);
  }
  const points = new Map<number, { pageViews: number; visitors: number; provisional: boolean }>();
  for (let start = options.from; start < options.until; start = shiftPeriod(start, options.granularity, 1)) {
    points.set(start.getTime() / 1000, { pageViews: 0, visitors: 0, provisional: false });
  }
  const sites = new Map<number, { pageViews: number; visitors: number }>();
  const merged = new SketchAccumulator();
  /** One row's visitors as it says, several rows' from their merged sketches. */
  const visitorsOf = (cell: Cell) => {
    if (cell.rows === 1) return cell.visitors;
    merged.reset();
    for (const sketch of cell.sketches) merged.merge(sketch);
    return Math.round(merged.estimate());
  };
  const totals = { pageViews: 0, visitors: 0 };
  for (const [site, cells] of bySite) {
    if (site === SUMMED_SITE) {
      for (const [t, cell] of cells) {
        const point = points.get(t) ?? { pageViews: 0, visitors: 0, provisional: false };
        point.pageViews += cell.pageViews;
        point.visitors += cell.visitors;
        points.set(t, point);
      }
      continue;
    }
    let pageViews = 0;
    const fallback: Cell = { pageViews: 0, visitors: 0, sketches: [], rows: 0, provisional: false };
    for (const [t, cell] of cells) {
      const visitors = visitorsOf(cell);
      pageViews += cell.pageViews;
      fallback.rows += 1;
      fallback.visitors = visitors;
      fallback.sketches.push(...cell.sketches);
      const point = points.get(t) ?? { pageViews: 0, visitors: 0, provisional: false };
      point.pageViews += cell.pageViews;
      point.visitors += visitors;
      point.provisional ||= cell.provisional;
      points.set(t, point);
    }
    sites.set(site, { pageViews, visitors: visitorsOf(tilesBySite.get(site) ?? fallback) });
  }
  // Sites whose series rows were summed in the shard have their visitors (and page views) from their tiles alone.
  for (const [site, tile] of tilesBySite) if (!sites.has(site)) sites.set(site, { pageViews: tile.pageViews, visitors: visitorsOf(tile) });
  for (const site of sites.values()) totals.visitors += site.visitors;
  for (const point of points.values()) totals.pageViews += point.pageViews;
  const provisionalStarts = options.provisionalFrom.filter((at): at is Date => at !== null).map((at) => at.getTime() / 1000);
  const firstProvisional = provisionalStarts.length > 0 ? Math.min(...provisionalStarts) : Number.POSITIVE_INFINITY;
  const series = [...points.entries()]
    .sort(([a], [b]) => a - b)
    .map(([t, point]) => ({ t: new Date(t * 1000).toISOString(), pageViews: point.pageViews, visitors: point.visitors, provisional: point.provisional || t >= firstProvisional }));
  return { series, totals, sites };
}

/** The series ends at the current period: later periods of a range reaching into the future are not drawn as zeros. */
export function seriesUntil(choice: Pick<TableChoice, 'to' | 'granularity'>, now: Date): Date {
  const current = shiftPeriod(periodStart(now, choice.granularity), choice.granularity, 1);
  return current < choice.to ? current : choice.to;
}

/** What visitors means for a scope, in one line. */
export function visitorsMeaning(scope: TrafficScope): string {
  if (scope.kind === 'site') return "the site's unique visitors (HyperLogLog sketches merged over the range, not a sum of periods)";
  return "each site's unique visitors (its sketches merged over the range), summed over the sites: a visitor id belongs to one site";
}

/** The line saying where provisional windows start, per shard, when any do within the range. */
export function provisionalNote(level: RollupLevel, starts: ReadonlyArray<{ shardName: string; from: Date | null }>, until: Date): string | undefined {
  const lagging = starts.filter((start): start is { shardName: string; from: Date } => start.from !== null && start.from < until);
  if (lagging.length === 0) return undefined;
  const parts = lagging.map((start) => `${start.shardName} from ${start.from.toISOString().replace(':00.000Z', 'Z')}`);
  return `not rolled up ${level} yet, computed from the levels below and raw rows (provisional): ${parts.join(', ')}`;
}

/** Strata's chart cache: its key of a request and how long an answer stays (5 min for up to a day, 1 h otherwise). */
export const CHART_CACHE_PREFIX = 'strata:chart:v1:';

export function chartCacheKey(scope: TrafficScope, from: Date, to: Date): string {
  const scopeKey = scope.kind === 'site' ? `site:${scope.siteId}` : scope.kind === 'top' ? `top:${scope.limit}` : 'cluster';
  return `${CHART_CACHE_PREFIX}${scopeKey}:${from.toISOString()}:${to.toISOString()}`;
}

export function chartCacheTtlSeconds(from: Date, to: Date): number {
  return to.getTime() - from.getTime() <= DAY_MS ? 300 : 3600;
}
