import { isProcessAlive } from '../../../src/main/sandbox/processes';
import { realSleep } from '../time';
import type { FaultCluster } from './cluster';

const HOUR = 3_600_000;
const LEVELS = ['hourly', 'daily', 'monthly'] as const;
type Level = (typeof LEVELS)[number];

/** What a reconciliation found: nothing in `problems`, and `rowsLost` 0, is a cluster that survived its fault. */
export interface Reconciliation {
  /** Page views the scenario committed and checked level by level. */
  rowsReconciled: number;
  /** Committed page views found neither in raw nor in the hourly level. */
  rowsLost: number;
  problems: string[];
}

interface LatestRun {
  shard: number;
  level: Level;
  windowStart: number;
  windowEnd: number;
  outcome: string;
  startedAt: number;
}

interface LevelRow {
  siteId: number;
  start: number;
  pageViews: number;
  visitors: number;
}

const num = (value: unknown) => Number(value ?? 0);
const iso = (ms: number) => new Date(ms).toISOString();
const dayStart = (ms: number) => Math.floor(ms / 86_400_000) * 86_400_000;
const monthStart = (ms: number) => {
  const at = new Date(ms);
  return Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1);
};
const nextMonth = (ms: number) => {
  const at = new Date(ms);
  return Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1);
};

/**
 * The closing check of every scenario, on the live cluster:
 * - no committed page view is lost (each is in raw, or in the hourly level once its raw hour was pruned);
 * - raw = hourly = daily = monthly page views for every window a level covers (below its watermark, or whose
 *   latest run on the shard committed);
 * - hourly visitors ≤ page views; daily (monthly) visitors ≥ the largest hourly (daily) of the period and ≤ their sum;
 * - no watermark lies past a window whose latest run on that shard failed or was cancelled;
 * - every process the scenario started has ended, and the lease is not held by a process that is gone.
 */
export async function reconcile(cluster: FaultCluster): Promise<Reconciliation> {
  const problems: string[] = [];
  let rowsLost = 0;
  const latest = await latestRuns(cluster);
  for (let shard = 0; shard < cluster.shardCount; shard += 1) {
    const label = `shard${shard}`;
    const raw = new Map<number, number>();
    for (const row of await cluster.query<Array<{ hour: number | string; views: number | string }>>(
      shard,
      'SELECT FLOOR(UNIX_TIMESTAMP(created_at) / 3600) AS hour, COUNT(*) AS views FROM analytics_realtime GROUP BY hour',
    )) {
      raw.set(num(row.hour) * HOUR, num(row.views));
    }
    const rows = {
      hourly: await levelRows(cluster, shard, 'SELECT site_id, hour_start AS start, page_views, visitors FROM analytics_hourly'),
      daily: await levelRows(cluster, shard, 'SELECT site_id, date AS start, page_views, visitors FROM analytics_daily'),
      monthly: await levelRows(cluster, shard, 'SELECT site_id, month_start AS start, page_views, visitors FROM analytics_monthly'),
    };
    const totals = (level: Level) => {
      const byWindow = new Map<number, number>();
      for (const row of rows[level]) byWindow.set(row.start, (byWindow.get(row.start) ?? 0) + row.pageViews);
      return byWindow;
    };
    const hourly = totals('hourly');
    const daily = totals('daily');
    const monthly = totals('monthly');

    // Nothing committed is lost (a page view is in raw, or in hourly once its raw hour is gone), nor counted twice.
    const rawBySite = new Map<string, number>();
    for (const row of await cluster.query<Array<{ hour: number | string; site_id: number; views: number | string }>>(
      shard,
      'SELECT FLOOR(UNIX_TIMESTAMP(created_at) / 3600) AS hour, site_id, COUNT(*) AS views FROM analytics_realtime GROUP BY hour, site_id',
    )) {
      rawBySite.set(`${num(row.hour) * HOUR}:${row.site_id}`, num(row.views));
    }
    const hourlyBySite = new Map(rows.hourly.map((row) => [`${row.start}:${row.siteId}`, row.pageViews]));
    for (const entry of cluster.ledger.entries().filter((candidate) => candidate.shard === shard)) {
      const key = `${entry.hourStart}:${entry.site}`;
      const inRaw = rawBySite.get(key) ?? 0;
      const inHourly = hourlyBySite.get(key) ?? 0;
      const known = Math.max(inRaw, inHourly);
      if (known < entry.rows) {
        rowsLost += entry.rows - known;
        problems.push(`${label} site ${entry.site} ${iso(entry.hourStart)}: ${entry.rows} page views committed, ${known} left (raw ${inRaw}, hourly ${inHourly})`);
      }
      if (inHourly > entry.rows) problems.push(`${label} site ${entry.site} ${iso(entry.hourStart)}: hourly counts ${inHourly} page views of ${entry.rows} committed`);
    }

    const watermarks = await cluster.query<Array<{ level: string; watermark: Date | null; covered_from: Date | null }>>(
      shard,
      'SELECT level, watermark, covered_from FROM strata_watermarks',
    );
    const watermarkOf = (level: Level) => watermarks.find((row) => row.level === level)?.watermark?.getTime() ?? null;
    const coveredFromOf = (level: Level) => watermarks.find((row) => row.level === level)?.covered_from?.getTime() ?? null;
    const runsOf = (level: Level) => latest.filter((run) => run.shard === shard && run.level === level);
    /** A window the level claims to have: under its watermark, or its latest run on this shard committed. */
    const covers = (level: Level, start: number, end: number) => {
      const watermark = watermarkOf(level);
      const coveredFrom = coveredFromOf(level) ?? -Infinity;
      if (watermark !== null && end <= watermark && start >= coveredFrom) return true;
      const run = runsOf(level).find((candidate) => candidate.windowStart === start);
      return run !== undefined && (run.outcome === 'ok' || run.outcome === 'fenced');
    };

    for (const level of LEVELS) {
      const watermark = watermarkOf(level);
      if (watermark === null) continue;
      const coveredFrom = coveredFromOf(level) ?? -Infinity;
      for (const run of runsOf(level)) {
        if ((run.outcome === 'failed' || run.outcome === 'cancelled') && run.windowEnd <= watermark && run.windowStart >= coveredFrom) {
          problems.push(`${label} ${level} watermark ${iso(watermark)} is past ${iso(run.windowStart)}, whose latest run ${run.outcome}`);
        }
      }
    }

    // raw = hourly for every covered hour. Raw short of hourly is an hour prune took (wholly or in part), which only
    // goes once rolled up; there the ledger above is the check. Raw beyond hourly is data not rolled up.
    for (const hour of new Set([...raw.keys(), ...hourly.keys()])) {
      if (!covers('hourly', hour, hour + HOUR)) continue;
      const rawViews = raw.get(hour) ?? 0;
      const hourlyViews = hourly.get(hour) ?? 0;
      if (rawViews > hourlyViews) problems.push(`${label} hour ${iso(hour)}: raw ${rawViews} ≠ hourly ${hourlyViews}`);
    }
    for (const day of new Set([...daily.keys(), ...[...hourly.keys()].map(dayStart)])) {
      if (!covers('daily', day, day + 86_400_000)) continue;
      const fromHours = sumRange(hourly, day, day + 86_400_000);
      if ((daily.get(day) ?? 0) !== fromHours) problems.push(`${label} day ${iso(day).slice(0, 10)}: hourly ${fromHours} ≠ daily ${daily.get(day) ?? 0}`);
    }
    for (const month of new Set([...monthly.keys(), ...[...daily.keys()].map(monthStart)])) {
      if (!covers('monthly', month, nextMonth(month))) continue;
      const fromDays = sumRange(daily, month, nextMonth(month));
      if ((monthly.get(month) ?? 0) !== fromDays) problems.push(`${label} month ${iso(month).slice(0, 7)}: daily ${fromDays} ≠ monthly ${monthly.get(month) ?? 0}`);
    }

    for (const row of rows.hourly) {
      if (row.visitors > row.pageViews || (row.pageViews > 0 && row.visitors < 1)) {
        problems.push(`${label} site ${row.siteId} hour ${iso(row.start)}: ${row.visitors} visitors for ${row.pageViews} page views`);
      }
    }
    checkVisitors(problems, label, 'daily', rows.daily, rows.hourly, dayStart, (start) => covers('daily', start, start + 86_400_000));
    checkVisitors(problems, label, 'monthly', rows.monthly, rows.daily, monthStart, (start) => covers('monthly', start, nextMonth(start)));
  }

  for (const pid of cluster.childPids()) if (isProcessAlive(pid)) problems.push(`strata pid ${pid} still runs`);
  const leaseProblem = await deadLeaseHolder(cluster);
  if (leaseProblem) problems.push(leaseProblem);
  return { rowsReconciled: cluster.ledger.total(), rowsLost, problems };
}

/**
 * A process killed while it held the lease cannot release it; what must hold is that the lease lapses within its
 * TTL instead of staying with the dead process (renewed by nobody). So a dead holder is given the TTL it has left.
 */
async function deadLeaseHolder(cluster: FaultCluster): Promise<string | undefined> {
  for (let waited = false; ; waited = true) {
    const lease = await cluster.test.services.lease.status();
    if (!lease.held || !lease.holder || isProcessAlive(lease.holder.pid)) return undefined;
    if (waited) return `the lease (token ${lease.holder.token}) is still held by pid ${lease.holder.pid}, which is gone, after its TTL`;
    await realSleep((lease.expiresInMs ?? 0) + 1000);
  }
}

function sumRange(totals: Map<number, number>, from: number, to: number): number {
  let sum = 0;
  for (const [start, views] of totals) if (start >= from && start < to) sum += views;
  return sum;
}

/** A period's visitors are at least its busiest part's and at most all its parts' together. */
function checkVisitors(
  problems: string[],
  label: string,
  level: Level,
  upper: LevelRow[],
  lower: LevelRow[],
  periodOf: (ms: number) => number,
  covered: (start: number) => boolean,
): void {
  const parts = new Map<string, { most: number; sum: number }>();
  for (const row of lower) {
    const key = `${row.siteId}:${periodOf(row.start)}`;
    const part = parts.get(key) ?? { most: 0, sum: 0 };
    part.most = Math.max(part.most, row.visitors);
    part.sum += row.visitors;
    parts.set(key, part);
  }
  for (const row of upper) {
    if (!covered(row.start)) continue;
    const part = parts.get(`${row.siteId}:${row.start}`) ?? { most: 0, sum: 0 };
    if (row.visitors < part.most || row.visitors > part.sum) {
      problems.push(`${label} ${level} site ${row.siteId} ${iso(row.start).slice(0, 10)}: ${row.visitors} visitors outside [${part.most}, ${part.sum}]`);
    }
  }
}

async function levelRows(cluster: FaultCluster, shard: number, sql: string): Promise<LevelRow[]> {
  const rows = await cluster.query<Array<{ site_id: number; start: Date; page_views: number | string; visitors: number | string }>>(shard, sql);
  return rows.map((row) => ({ siteId: Number(row.site_id), start: row.start.getTime(), pageViews: num(row.page_views), visitors: num(row.visitors) }));
}

/** The latest rollup run of every shard, level and window, read from every shard (a run is recorded elsewhere when its shard was down). */
async function latestRuns(cluster: FaultCluster): Promise<LatestRun[]> {
  const latest = new Map<string, LatestRun>();
  for (let shard = 0; shard < cluster.shardCount; shard += 1) {
    const rows = await cluster.query<
      Array<{ id: number; shard_index: number | null; level: string; window_start: Date; window_end: Date; outcome: string; started_at: Date }>
    >(shard, "SELECT id, shard_index, level, window_start, window_end, outcome, started_at FROM strata_job_runs WHERE job = 'rollup' AND window_start IS NOT NULL ORDER BY started_at, id");
    for (const row of rows) {
      const run: LatestRun = {
        shard: row.shard_index ?? shard,
        level: row.level as Level,
        windowStart: row.window_start.getTime(),
        windowEnd: row.window_end.getTime(),
        outcome: row.outcome,
        startedAt: row.started_at.getTime(),
      };
      const key = `${run.shard}:${run.level}:${run.windowStart}`;
      const seen = latest.get(key);
      if (!seen || seen.startedAt <= run.startedAt) latest.set(key, run);
    }
  }
  return [...latest.values()];
}
