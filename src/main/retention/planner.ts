/**
 * Plans what a prune removes from one table on one shard. Pure: it gets the table's partitions, the totals of its
 * expired windows, what the next level holds for them and how far that level has rolled up, and decides per window
 * and per partition. Whole partitions are dropped only when every window in them may go; the other expired windows
 * that may go are deleted by range. Nothing here reads a clock or a database.
 */
import { RETAINED_TABLES, type DeleteRange, type DroppedPartition, type KeptWindow, type RetentionSettings, type RetentionTable, type TablePrune } from '../../shared/retention';
import { periodStart, shiftPeriod } from '../schema/partitions';

/** One partition of the table as information_schema shows it, with its range already read into instants. */
export interface PartitionFacts {
  name: string;
  /** Null for the first partition: it holds anything earlier than `to`. */
  from: Date | null;
  /** Null for the catch-all (MAXVALUE). */
  to: Date | null;
  rows: number;
  bytes: number;
}

/** Page views (raw: rows) one window holds in a table. */
export interface WindowTotal {
  start: Date;
  pageViews: number;
}

export interface NextLevelCoverage {
  /** Exclusive end of the next level's contiguous completed windows; null when it never ran. */
  watermark: Date | null;
  /** Where that contiguous coverage began. */
  coveredFrom: Date | null;
  /** Starts (epoch ms) of windows the next level rolled up outside its watermark's span (backfills of old history). */
  rolledUpWindows: ReadonlySet<number>;
}

export interface TablePruneInput {
  table: RetentionTable;
  now: Date;
  policy: RetentionSettings;
  partitioned: boolean;
  partitions: readonly PartitionFacts[];
  /** Every window ending at or before the cutoff that holds rows in this table. */
  expiredWindows: readonly WindowTotal[];
  /** What the next level holds for those windows (absent windows hold nothing); empty for monthly. */
  nextLevelTotals: ReadonlyMap<number, number>;
  coverage: NextLevelCoverage;
  /**
   * Windows an earlier prune began deleting (start epoch ms → the next level's page views it checked then): their
   * source no longer adds up, so they may go on while the next level still holds what was checked.
   */
  partialWindows?: ReadonlyMap<number, number>;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Rows of windows ending at or before this instant are past the table's retention. */
export function retentionCutoff(table: RetentionTable, now: Date, policy: RetentionSettings): Date {
  switch (RETAINED_TABLES[table].key) {
    case 'rawHours':
      return new Date(now.getTime() - policy.rawHours * HOUR_MS);
    case 'hourlyDays':
      return new Date(now.getTime() - policy.hourlyDays * DAY_MS);
    case 'dailyDays':
      return new Date(now.getTime() - policy.dailyDays * DAY_MS);
    case 'monthlyMonths':
      return shiftPeriod(now, 'month', -policy.monthlyMonths);
  }
}

/** The end of the window that starts at `start`. */
export function windowEnd(table: RetentionTable, start: Date): Date {
  return shiftPeriod(start, RETAINED_TABLES[table].window, 1);
}

/** The start of the last window that ends at or before the cutoff ends: every window before it is expired. */
export function expiredBefore(table: RetentionTable, cutoff: Date): Date {
  return periodStart(cutoff, RETAINED_TABLES[table].window);
}

const iso = (at: Date) => at.toISOString().replace('.000Z', 'Z');
const count = (value: number) => value.toLocaleString('en-US');

function keptMessage(
  table: RetentionTable,
  start: Date,
  end: Date,
  reason: 'not-rolled-up' | 'totals-differ',
  coverage: NextLevelCoverage,
  source: number,
  next: number,
  partial?: number,
): string {
  const { label, nextLevel } = RETAINED_TABLES[table];
  const rerun = `strata rollup --level ${nextLevel} --from ${iso(start)} --to ${iso(end)}`;
  if (reason === 'not-rolled-up') {
    const where = coverage.watermark ? `its watermark is ${iso(coverage.watermark)}` : 'it has never run on this shard';
    return `${label} ${iso(start)}–${iso(end)} is past retention but the ${nextLevel} rollup has not covered it (${where}); kept until it is rolled up: ${rerun}`;
  }
  if (partial !== undefined) {
    return `${label} ${iso(start)}–${iso(end)} was partly pruned when ${nextLevel} held ${count(partial)} page views; it now holds ${count(next)} and ${label} ${count(source)}, so the rest is kept: check the window by hand`;
  }
  return `${label} ${iso(start)}–${iso(end)} holds ${count(source)} page views but ${nextLevel} holds ${count(next)}; kept until they agree: ${rerun}`;
}

function rolledUp(start: Date, end: Date, coverage: NextLevelCoverage): boolean {
  if (coverage.rolledUpWindows.has(start.getTime())) return true;
  if (!coverage.watermark || end > coverage.watermark) return false;
  return coverage.coveredFrom === null || start >= coverage.coveredFrom;
}


/**
 * Decides, for one table on one shard, which partitions to drop, which windows to delete and which to keep back.
 * `rows` of a delete are the window's rows (raw) or page-view-bearing rows as counted by the caller.
 */
export function planTablePrune(input: TablePruneInput, windowRows: ReadonlyMap<number, number> = new Map()): TablePrune {
  const { table, coverage } = input;
  const spec = RETAINED_TABLES[table];
  const cutoff = retentionCutoff(table, input.now, input.policy);
  const kept: KeptWindow[] = [];
  const prunable: Array<{ start: Date; end: Date; rows: number; next?: number }> = [];
  for (const window of [...input.expiredWindows].sort((a, b) => a.start.getTime() - b.start.getTime())) {
    const end = windowEnd(table, window.start);
    if (end > cutoff) continue;
    const rows = windowRows.get(window.start.getTime()) ?? window.pageViews;
    if (!spec.nextLevel) {
      prunable.push({ start: window.start, end, rows });
      continue;
    }
    const next = input.nextLevelTotals.get(window.start.getTime()) ?? 0;
    const base = { table, windowStart: iso(window.start), windowEnd: iso(end), sourcePageViews: window.pageViews, nextLevelPageViews: next };
    const partial = input.partialWindows?.get(window.start.getTime());
    const reconciles = partial === undefined ? next === window.pageViews : next === partial && window.pageViews <= next;
    if (!rolledUp(window.start, end, coverage)) {
      kept.push({ ...base, reason: 'not-rolled-up', message: keptMessage(table, window.start, end, 'not-rolled-up', coverage, window.pageViews, next) });
    } else if (!reconciles) {
      kept.push({ ...base, reason: 'totals-differ', message: keptMessage(table, window.start, end, 'totals-differ', coverage, window.pageViews, next, partial) });
    } else {
      prunable.push({ start: window.start, end, rows, next });
    }
  }

  const drops: DroppedPartition[] = [];
  const inDroppedPartition = new Set<number>();
  // Rows from here on belong to a window that is not over yet at the cutoff: a partition reaching past it stays.
  const boundary = expiredBefore(table, cutoff);
  if (input.partitioned) {
    for (const partition of input.partitions) {
      if (!partition.to || partition.to > boundary) continue;
      const overlaps = (start: Date, end: Date) => start < partition.to! && (partition.from === null || end > partition.from);
      const blocked = kept.some((window) => overlaps(new Date(window.windowStart), new Date(window.windowEnd)));
      if (blocked) continue;
      // A window that reaches past the partition would be cut in half: leave it to the batched delete.
      const inside = prunable.filter((window) => overlaps(window.start, window.end));
      if (inside.some((window) => window.end > partition.to! || (partition.from !== null && window.start < partition.from))) continue;
      for (const window of inside) inDroppedPartition.add(window.start.getTime());
      const rows = inside.reduce((sum, window) => sum + window.rows, 0);
      drops.push({ name: partition.name, from: partition.from ? iso(partition.from) : null, to: iso(partition.to), rows, bytes: partition.bytes });
    }
  }
  const deletes: DeleteRange[] = prunable
    .filter((window) => !inDroppedPartition.has(window.start.getTime()))
    .map((window) => ({ from: iso(window.start), to: iso(window.end), rows: window.rows, ...(window.next === undefined ? {} : { nextLevelPageViews: window.next }) }));
  return {
    table,
    cutoff: iso(cutoff),
    partitioned: input.partitioned,
    drops,
    deletes,
    rows: drops.reduce((sum, partition) => sum + partition.rows, 0) + deletes.reduce((sum, range) => sum + range.rows, 0),
    bytes: drops.reduce((sum, partition) => sum + partition.bytes, 0),
    kept,
  };
}
