import type { RollupLevel } from '../../shared/rollup';
import { partitionStartFromName, periodStart, PARTITION_SCHEMES, shiftPeriod, type PartitionedTable } from '../schema/partitions';

/** More than the 7 days hourly rows are kept, so every retention rule and a backfill of older days have data. */
export const DEFAULT_DEMO_DAYS = 10;

/**
 * The tables whose partitions must reach back over the whole demo history: the migrations create raw partitions
 * 2 days back and hourly ones 7 days back, and older rows would all land in one first partition, where a prune
 * could only delete in batches instead of dropping whole expired partitions.
 */
export const DEMO_HISTORY_TABLES = ['analytics_realtime', 'analytics_hourly'] as const satisfies readonly PartitionedTable[];

export interface DemoHistoryPlan {
  /** Traffic covers [from, to): whole UTC days before today, then today up to the current hour. */
  from: Date;
  to: Date;
  /**
   * Ranges rolled up before the console starts, finer levels first, as after importing older history: catch-up
   * only rolls up what retention still holds, so without these the older days would stay raw.
   */
  rollups: Array<{ level: RollupLevel; from: Date; to: Date }>;
}

/** What `strata demo` generates and rolls up for `days` days of history before `now`. */
export function planDemoHistory(now: Date, days: number): DemoHistoryPlan {
  if (!Number.isInteger(days) || days < 1) throw new RangeError(`days must be a whole number from 1, got ${days}`);
  const today = periodStart(now, 'day');
  const from = shiftPeriod(today, 'day', -days);
  const to = periodStart(now, 'hour');
  const rollups: DemoHistoryPlan['rollups'] = [
    { level: 'hourly', from, to },
    { level: 'daily', from, to: today },
  ];
  const firstMonth = periodStart(from, 'month');
  const thisMonth = periodStart(now, 'month');
  if (firstMonth < thisMonth) rollups.push({ level: 'monthly', from: firstMonth, to: thisMonth });
  return { from, to, rollups };
}

/**
 * Where a table's partitions start on a shard, from the name of its first partition (its own period; the bound
 * below it holds anything earlier), or undefined when the table has no named time partition.
 */
export function firstPartitionStart(table: PartitionedTable, partitions: ReadonlyArray<{ name: string; ordinal: number; to: string | null }>): Date | undefined {
  const first = [...partitions].sort((a, b) => a.ordinal - b.ordinal)[0];
  if (!first || first.to === null) return undefined;
  const { granularity } = PARTITION_SCHEMES[table];
  return partitionStartFromName(first.name, granularity) ?? shiftPeriod(new Date(first.to), granularity, -1);
}
