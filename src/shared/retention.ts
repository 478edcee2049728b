import { z } from 'zod';
import { unreadShardSchema } from './problem';
import { DEFAULT_RETENTION, DEFAULT_TRAILING_HOURS, type RollupLevel } from './rollup';

/**
 * Retention and pruning (issue 4): how long each analytics table keeps its rows, what a prune would remove, what it
 * keeps back and why. Pure TypeScript shared by the engine, the CLI and the console; times are ISO-8601 UTC strings.
 */

export const RETENTION_TABLE_NAMES = ['analytics_realtime', 'analytics_hourly', 'analytics_daily', 'analytics_monthly'] as const;
export type RetentionTable = (typeof RETENTION_TABLE_NAMES)[number];

/** The policy field that holds each table's retention, in the unit its name says. */
export type RetentionKey = 'rawHours' | 'hourlyDays' | 'dailyDays' | 'monthlyMonths';

export interface RetainedTable {
  table: RetentionTable;
  /** Short name used in run history and on screen. */
  label: 'raw' | RollupLevel;
  key: RetentionKey;
  unit: 'hour' | 'day' | 'month';
  /** The level rolled up from this table: its rows may go only once that level holds them. Null for monthly. */
  nextLevel: RollupLevel | null;
  nextTable: RetentionTable | null;
  /** A window of the next level (or of the table itself for monthly): the unit rows are checked and pruned in. */
  window: 'hour' | 'day' | 'month';
}

export const RETAINED_TABLES: Record<RetentionTable, RetainedTable> = {
  analytics_realtime: { table: 'analytics_realtime', label: 'raw', key: 'rawHours', unit: 'hour', nextLevel: 'hourly', nextTable: 'analytics_hourly', window: 'hour' },
  analytics_hourly: { table: 'analytics_hourly', label: 'hourly', key: 'hourlyDays', unit: 'day', nextLevel: 'daily', nextTable: 'analytics_daily', window: 'day' },
  analytics_daily: { table: 'analytics_daily', label: 'daily', key: 'dailyDays', unit: 'day', nextLevel: 'monthly', nextTable: 'analytics_monthly', window: 'month' },
  analytics_monthly: { table: 'analytics_monthly', label: 'monthly', key: 'monthlyMonths', unit: 'month', nextLevel: null, nextTable: null, window: 'month' },
};

export function isRetentionTable(name: string): name is RetentionTable {
  return (RETENTION_TABLE_NAMES as readonly string[]).includes(name);
}

/**
 * The shortest retention that still lets the next level's rollup read a window after it closes, given the default
 * schedules: hourly runs every hour and re-rolls the last 3 hours; daily runs at 02:00 for the day before; monthly
 * on the 1st at 03:00 for the month before, whose first day is then up to 31 days and 3 hours old.
 */
export const MINIMUM_RETENTION: Record<RetentionKey, { value: number; why: string }> = {
  rawHours: { value: DEFAULT_TRAILING_HOURS + 2, why: `the hourly rollup re-reads the last ${DEFAULT_TRAILING_HOURS} hours of raw rows every hour` },
  hourlyDays: { value: 2, why: 'the daily rollup reads a whole day of hours at 02:00 the next day' },
  dailyDays: { value: 32, why: 'the monthly rollup reads every day of a month on the 1st of the next month' },
  monthlyMonths: { value: 1, why: 'monthly rows are the last level and only need to outlive the current month' },
};

/** Rows a batched DELETE removes at a time, the pause between batches and the time one prune may take per table. */
export const DEFAULT_PRUNE_BATCH = { batchRows: 5000, batchPauseMs: 50, timeBudgetSeconds: 300 } as const;

export const retentionPolicySchema = z.strictObject({
  rawHours: z.number().int().min(1).max(24 * 366),
  hourlyDays: z.number().int().min(1).max(3660),
  dailyDays: z.number().int().min(1).max(36_600),
  monthlyMonths: z.number().int().min(1).max(1200),
  batchRows: z.number().int().min(1).max(1_000_000),
  batchPauseMs: z.number().int().min(0).max(60_000),
  timeBudgetSeconds: z.number().int().min(1).max(86_400),
});

export type RetentionSettings = z.infer<typeof retentionPolicySchema>;

export const DEFAULT_RETENTION_SETTINGS: RetentionSettings = { ...DEFAULT_RETENTION, ...DEFAULT_PRUNE_BATCH };

/** What the console and `strata retention show` display: the policy, whether it is the default, who changed it. */
export const retentionPolicyEntrySchema = z.object({
  policy: retentionPolicySchema,
  defaults: retentionPolicySchema,
  isDefault: z.boolean(),
  /** The shortest value each retention may take, and why. */
  minimums: z.record(z.string(), z.object({ value: z.number().int(), why: z.string() })),
  changedBy: z.string().optional(),
  changedAt: z.string().optional(),
});

/** A partial policy: fields left out keep their current value. */
export const retentionSetRequestSchema = retentionPolicySchema.partial().refine((request) => Object.keys(request).length > 0, {
  message: 'give at least one setting to change',
});

/**
 * Why a prune keeps a window back:
 * - `not-rolled-up`: the next level has not covered the window yet;
 * - `totals-differ`: the next level covers it but its page views do not add up to this table's (late rows, a
 *   failed re-roll, a hand edit): re-roll the window first;
 * - `time-budget`, `cancelled`: the run stopped before reaching it; the next run continues;
 * - `backup-running`: a backup of the shard is running (job-conflict rule);
 * - `late-rows`: rows were written into the window after the prune checked it; the next run checks it again;
 * - `table-locked`: a transaction held the table's metadata lock, so its partitions were not dropped this time.
 */
export const KEPT_REASONS = ['not-rolled-up', 'totals-differ', 'time-budget', 'cancelled', 'backup-running', 'late-rows', 'table-locked'] as const;
export const keptReasonSchema = z.enum(KEPT_REASONS);
export type KeptReason = z.infer<typeof keptReasonSchema>;

const isoTime = z.string();

export const keptWindowSchema = z.object({
  table: z.enum(RETENTION_TABLE_NAMES),
  windowStart: isoTime,
  windowEnd: isoTime,
  reason: keptReasonSchema,
  /** One line for people, with what to do about it. */
  message: z.string(),
  /** Page views this table holds for the window, and what the next level holds (when compared). */
  sourcePageViews: z.number().int().nonnegative().optional(),
  nextLevelPageViews: z.number().int().nonnegative().optional(),
});

export const droppedPartitionSchema = z.object({
  name: z.string(),
  /** Null for the first partition (it holds anything earlier). */
  from: isoTime.nullable(),
  to: isoTime,
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
});

/** One expired window removed by batched DELETEs (windows are deleted one at a time, so a stop leaves at most one half done). */
export const deleteRangeSchema = z.object({
  from: isoTime,
  to: isoTime,
  /** Rows in the range, counted when the plan was made. */
  rows: z.number().int().nonnegative(),
  /** What the next level held for the window when it was checked; absent for monthly rows. */
  nextLevelPageViews: z.number().int().nonnegative().optional(),
});

export const tablePruneResultSchema = z.object({
  droppedPartitions: z.number().int().nonnegative(),
  deletedRows: z.number().int().nonnegative(),
  elapsedMs: z.number().int().nonnegative(),
  /** True when everything planned for the table was removed. */
  complete: z.boolean(),
  stoppedBy: z.enum(['time-budget', 'cancelled', 'failed']).optional(),
  error: z.string().optional(),
});

export const tablePruneSchema = z.object({
  table: z.enum(RETENTION_TABLE_NAMES),
  /** Rows of windows ending at or before this instant are past retention. */
  cutoff: isoTime,
  partitioned: z.boolean(),
  /** Whole partitions to drop: every window in them is expired, rolled up and reconciled. */
  drops: z.array(droppedPartitionSchema),
  /** Expired, checked windows outside droppable partitions, removed by batched DELETEs. */
  deletes: z.array(deleteRangeSchema),
  /** Total rows and bytes (bytes: of dropped partitions only; deleted rows free space inside the table). */
  rows: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
  kept: z.array(keptWindowSchema),
  /** Present once the prune ran (absent in a dry run). */
  result: tablePruneResultSchema.optional(),
});

export const shardPruneSchema = z.object({
  index: z.number().int().nonnegative(),
  name: z.string(),
  reachable: z.boolean(),
  problem: z.object({ code: z.number().int(), message: z.string() }).optional(),
  /** The activity (a backup) that keeps this shard from being pruned now. */
  blockedBy: z.string().optional(),
  tables: z.array(tablePruneSchema),
});

export const pruneReportSchema = z.object({
  runId: z.string(),
  plannedAt: isoTime,
  dryRun: z.boolean(),
  policy: retentionPolicySchema,
  /** False when a shard could not be reached or any removal failed. */
  ok: z.boolean(),
  totals: z.object({ rows: z.number().int().nonnegative(), bytes: z.number().int().nonnegative(), partitions: z.number().int().nonnegative(), kept: z.number().int().nonnegative() }),
  shards: z.array(shardPruneSchema),
});

export const pruneRequestSchema = z.strictObject({
  shards: z.array(z.number().int().nonnegative()).max(1024).optional(),
  tables: z.array(z.enum(RETENTION_TABLE_NAMES)).min(1).optional(),
});

/** Running a prune removes data, so the request must say so explicitly. */
export const pruneRunRequestSchema = pruneRequestSchema.extend({ confirm: z.literal(true) });

export const pruneProgressSchema = z.object({
  runId: z.string(),
  shard: z.number().int().nonnegative(),
  shardName: z.string(),
  table: z.enum(RETENTION_TABLE_NAMES),
  kind: z.enum(['table-started', 'partitions-dropped', 'batch-deleted', 'table-finished']),
  droppedPartitions: z.number().int().nonnegative(),
  deletedRows: z.number().int().nonnegative(),
  /** Rows the table's plan removes in all. */
  plannedRows: z.number().int().nonnegative(),
  message: z.string().optional(),
});

/** One prune or maintenance run on one shard and table, from strata_job_runs. */
export const maintenanceRunSchema = z.object({
  id: z.number().int(),
  runId: z.string().nullable(),
  job: z.string(),
  shard: z.number().int().nonnegative(),
  shardName: z.string(),
  table: z.string().nullable(),
  trigger: z.string(),
  host: z.string(),
  startedAt: isoTime,
  finishedAt: isoTime.nullable(),
  durationMs: z.number().int().nonnegative().nullable(),
  outcome: z.string(),
  rowsRemoved: z.number().int().nonnegative(),
  detail: z.string().nullable(),
  error: z.string().nullable(),
});

/** The latest maintenance runs merged from every shard, and the shards whose history could not be read. */
export const maintenanceRunHistorySchema = z.object({ runs: z.array(maintenanceRunSchema), unreadShards: z.array(unreadShardSchema) });

export const maintenanceRunsRequestSchema = z.strictObject({ limit: z.number().int().min(1).max(1000).default(50) });

export type RetentionPolicyEntry = z.infer<typeof retentionPolicyEntrySchema>;
export type RetentionSetRequest = z.infer<typeof retentionSetRequestSchema>;
export type KeptWindow = z.infer<typeof keptWindowSchema>;
export type DroppedPartition = z.infer<typeof droppedPartitionSchema>;
export type DeleteRange = z.infer<typeof deleteRangeSchema>;
export type TablePruneResult = z.infer<typeof tablePruneResultSchema>;
export type TablePrune = z.infer<typeof tablePruneSchema>;
export type ShardPrune = z.infer<typeof shardPruneSchema>;
export type PruneReport = z.infer<typeof pruneReportSchema>;
export type PruneRequest = z.infer<typeof pruneRequestSchema>;
export type PruneRunRequest = z.infer<typeof pruneRunRequestSchema>;
export type PruneProgress = z.infer<typeof pruneProgressSchema>;
export type MaintenanceRun = z.infer<typeof maintenanceRunSchema>;
export type MaintenanceRunHistory = z.infer<typeof maintenanceRunHistorySchema>;

/** Every way a policy breaks the rollup lag; empty when it is acceptable. */
export function retentionPolicyProblems(policy: RetentionSettings): string[] {
  const units: Record<RetentionKey, string> = { rawHours: 'hours', hourlyDays: 'days', dailyDays: 'days', monthlyMonths: 'months' };
  return (Object.keys(MINIMUM_RETENTION) as RetentionKey[])
    .filter((key) => policy[key] < MINIMUM_RETENTION[key].value)
    .map((key) => `${key} ${policy[key]} is shorter than the next level's rollup lag: keep at least ${MINIMUM_RETENTION[key].value} ${units[key]}, because ${MINIMUM_RETENTION[key].why}`);
}
