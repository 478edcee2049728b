/**
 * The reconciliation planner: which windows of each level are compared with their source, the SQL that totals
 * both sides per window, and which windows differ and must be re-rolled (with the levels above them). Pure: no
 * connections, no clock of its own.
 */
import { ErrorCode, StrataError } from '../../shared/errors';
import type { ReconcileFinding, ReconcileLevel, ReconcileOutcome, ReconcileWindow } from '../../shared/reconcile';
import { ROLLUP_LEVELS, type RetentionPolicy, type RollupLevel } from '../../shared/rollup';
import { periodStart, shiftPeriod } from '../schema/partitions';
import { ceilPeriod, LEVELS, retentionStart } from '../rollup/planner';

export interface Statement {
  sql: string;
  params: unknown[];
}

/** The level each level's windows are carried up to once re-rolled; none above monthly. */
export const LEVEL_ABOVE: Record<RollupLevel, RollupLevel | undefined> = { hourly: 'daily', daily: 'monthly', monthly: undefined };

/** A window start in SQL, as epoch seconds under the session's UTC time zone, for a row of the level's source. */
const SOURCE_WINDOW: Record<RollupLevel, string> = {
  hourly: 'FLOOR(UNIX_TIMESTAMP(created_at) / 3600) * 3600',
  daily: 'UNIX_TIMESTAMP(DATE(hour_start))',
  monthly: "UNIX_TIMESTAMP(DATE_FORMAT(`date`, '%Y-%m-01'))",
};

const quote = (name: string) => `\`${name}\``;

/**
 * Page views of the level's source per window of the level in [from, to), as `w` (epoch seconds) and `pv`: one
 * statement per shard, whose range on the partition column prunes it to the partitions of the range. Raw rows are
 * page views; the rollup tables carry theirs in a column.
 */
export function sourceTotalsSql(level: RollupLevel, from: Date, to: Date): Statement {
  const { source, sourceColumn } = LEVELS[level];
  const pageViews = level === 'hourly' ? 'COUNT(*)' : 'COALESCE(SUM(page_views), 0)';
  return {
    sql: `SELECT ${SOURCE_WINDOW[level]} AS w, ${pageViews} AS pv FROM ${source} WHERE ${quote(sourceColumn)} >= ? AND ${quote(sourceColumn)} < ? GROUP BY w`,
    params: [from, to],
  };
}

/** Page views the level holds per window in [from, to), as `w` and `pv`. */
export function levelTotalsSql(level: RollupLevel, from: Date, to: Date): Statement {
  const { target, targetColumn } = LEVELS[level];
  const column = quote(targetColumn);
  return {
    sql: `SELECT UNIX_TIMESTAMP(${column}) AS w, COALESCE(SUM(page_views), 0) AS pv FROM ${target} WHERE ${column} >= ? AND ${column} < ? GROUP BY ${column}`,
    params: [from, to],
  };
}

/** Rows of a totals statement as window start (epoch ms) → page views. */
export function totalsByWindow(rows: ReadonlyArray<{ w: number | string; pv: number | string }>): Map<number, number> {
  const totals = new Map<number, number>();
  for (const row of rows) totals.set(Number(row.w) * 1000, (totals.get(Number(row.w) * 1000) ?? 0) + Number(row.pv));
  return totals;
}

/** A range asked for by hand: both ends or neither, valid, ordered. */
export function checkRange(from: string | Date | undefined, to: string | Date | undefined): { from: Date; to: Date } | undefined {
  if ((from === undefined) !== (to === undefined)) throw new StrataError(ErrorCode.ReconcileInvalid, '--from and --to go together: give both for a range, or neither for everything retention holds');
  if (from === undefined || to === undefined) return undefined;
  const range = { from: new Date(from), to: new Date(to) };
  if (Number.isNaN(range.from.getTime()) || Number.isNaN(range.to.getTime())) throw new StrataError(ErrorCode.ReconcileInvalid, 'from and to must be valid ISO-8601 UTC times');
  if (range.from >= range.to) throw new StrataError(ErrorCode.ReconcileInvalid, `--from (${range.from.toISOString()}) must be before --to (${range.to.toISOString()})`);
  return range;
}

export type LevelRange = { from: Date; to: Date } | { note: string };

/**
 * The whole windows of a level compared on a shard: from the oldest one whose source retention still holds (so a
 * window whose source was pruned is never mistaken for late data) up to the level's watermark (later windows are
 * the rollup's own next work), narrowed to the windows covering the asked range.
 */
export function levelRange(level: RollupLevel, now: Date, retention: RetentionPolicy, watermark: Date | null, asked?: { from: Date; to: Date }): LevelRange {
  if (!watermark) return { note: `the ${level} level has never been rolled up on this shard` };
  const { granularity } = LEVELS[level];
  const closed = periodStart(now, granularity);
  let from = retentionStart(level, now, retention);
  let to = watermark < closed ? periodStart(watermark, granularity) : closed;
  if (asked) {
    const askedFrom = periodStart(asked.from, granularity);
    const askedTo = ceilPeriod(asked.to, granularity);
    if (askedFrom > from) from = askedFrom;
    if (askedTo < to) to = askedTo;
  }
  if (from >= to) return { note: `no closed ${level} window in the range is both rolled up and still in its source's retention` };
  return { from, to };
}

/** How many windows of the level [from, to) holds. */
export function windowCount(level: RollupLevel, from: Date, to: Date): number {
  let count = 0;
  for (let start = from; start < to; start = shiftPeriod(start, LEVELS[level].granularity, 1)) count += 1;
  return count;
}

/** The windows of the level above that hold the given window starts (epoch ms), as epoch ms. */
export function windowsAbove(level: RollupLevel, starts: Iterable<number>): Set<number> {
  const above = LEVEL_ABOVE[level];
  const parents = new Set<number>();
  if (!above) return parents;
  for (const start of starts) parents.add(periodStart(new Date(start), LEVELS[above].granularity).getTime());
  return parents;
}

/**
 * Compares each window of [from, to): one whose source holds more page views than the level has late rows and is
 * re-rolled; one whose source holds fewer is kept (re-rolling would throw away page views whose source is gone);
 * one the cascade reaches is re-rolled too unless its source is short. Matching windows are only counted.
 */
export function compareLevel(
  level: RollupLevel,
  range: { from: Date; to: Date },
  source: ReadonlyMap<number, number>,
  levelTotals: ReadonlyMap<number, number>,
  cascade: ReadonlySet<number>,
  dryRun: boolean,
): ReconcileLevel {
  const windows: ReconcileWindow[] = [];
  let windowsChecked = 0;
  const { granularity } = LEVELS[level];
  for (let start = range.from; start < range.to; ) {
    const end = shiftPeriod(start, granularity, 1);
    windowsChecked += 1;
    const sourcePageViews = source.get(start.getTime()) ?? 0;
    const levelPageViews = levelTotals.get(start.getTime()) ?? 0;
    let finding: ReconcileFinding | undefined;
    if (sourcePageViews < levelPageViews) finding = 'source-short';
    else if (cascade.has(start.getTime())) finding = 'cascade';
    else if (sourcePageViews > levelPageViews) finding = 'late-rows';
    if (finding) {
      const action = finding === 'source-short' ? 'kept' : dryRun ? 'would-re-roll' : 're-rolled';
      windows.push({ windowStart: start.toISOString(), windowEnd: end.toISOString(), finding, sourcePageViews, levelPageViews, action });
    }
    start = end;
  }
  return { level, from: range.from.toISOString(), to: range.to.toISOString(), windowsChecked, windows };
}

/** The windows of a compared level that are (or would be) re-rolled. */
export function windowsToReRoll(compared: ReconcileLevel): ReconcileWindow[] {
  return compared.windows.filter((window) => window.action === 're-rolled' || window.action === 'would-re-roll');
}

/** One shard's outcome from its levels, or `failed` when it could not be read. */
export function shardOutcome(levels: readonly ReconcileLevel[], dryRun: boolean, unreadable: boolean): ReconcileOutcome {
  const windows = levels.flatMap((level) => level.windows);
  if (unreadable || windows.some((window) => window.action === 'failed')) return 'failed';
  if (windows.some((window) => window.action === 'kept')) return 'unrepaired';
  if (windows.length === 0) return 'matched';
  return dryRun ? 'differs' : 'repaired';
}

/** Whether an outcome needs somebody: a shard not read, a failed re-roll, a window that could not be repaired. */
export function outcomeNeedsAttention(outcome: ReconcileOutcome): boolean {
  return outcome === 'failed' || outcome === 'unrepaired';
}

const shortTime = (text: string) => text.replace(':00.000Z', 'Z');

/**
 * What the run history and the audit log keep of a shard's reconciliation: per level the windows checked and
 * each window that differed, with both totals and what was done, such as
 * `hourly 2026-11-30T05:00Z–2026-12-02T05:00Z: 48 checked; 2026-12-01T19:00Z raw 342 vs hourly 312 late-rows re-rolled`.
 */
export function describeLevels(levels: readonly ReconcileLevel[]): string {
  const sourceName: Record<RollupLevel, string> = { hourly: 'raw', daily: 'hourly', monthly: 'daily' };
  return levels
    .map((level) => {
      if (!level.from || !level.to) return `${level.level}: not checked (${level.note ?? 'nothing to compare'})`;
      const head = `${level.level} ${shortTime(level.from)}–${shortTime(level.to)}: ${level.windowsChecked} checked`;
      if (level.windows.length === 0) return `${head}, all matched`;
      const listed = level.windows.map(
        (window) =>
          `${shortTime(window.windowStart)} ${sourceName[level.level]} ${window.sourcePageViews} vs ${level.level} ${window.levelPageViews} ${window.finding} ${window.action}${window.error ? ` (${window.error})` : ''}`,
      );
      return `${head}; ${listed.join(', ')}`;
    })
    .join('; ');
}

/** Levels in the order they are reconciled: each one's re-rolls are carried into the next. */
export const RECONCILE_ORDER: readonly RollupLevel[] = ROLLUP_LEVELS;
