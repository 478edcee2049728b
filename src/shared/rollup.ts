import { z } from 'zod';
import { unreadShardSchema } from './problem';

/**
 * Rollup domain types shared by the engine, the CLI and the console: levels, triggers, run records,
 * watermarks and reports. Times are ISO-8601 UTC strings so they cross IPC and JSON unchanged.
 */

export const ROLLUP_LEVELS = ['hourly', 'daily', 'monthly'] as const;
export const RUN_TRIGGERS = ['schedule', 'catch-up', 'backfill', 'manual'] as const;
/** `fenced`: the window was written but a newer lease holder owns the watermark, so it did not move. */
export const RUN_OUTCOMES = ['ok', 'failed', 'cancelled', 'fenced'] as const;

export const rollupLevelSchema = z.enum(ROLLUP_LEVELS);
export const runTriggerSchema = z.enum(RUN_TRIGGERS);
export const runOutcomeSchema = z.enum(RUN_OUTCOMES);

export type RollupLevel = z.infer<typeof rollupLevelSchema>;
export type RunTrigger = z.infer<typeof runTriggerSchema>;
export type RunOutcome = z.infer<typeof runOutcomeSchema>;

/**
 * How long each table keeps data by default. Catch-up never starts a window older than its source keeps,
 * and a day (month) becomes due only once its hours (days) are in. One place, so a later issue can make them
 * configurable.
 */
export const DEFAULT_RETENTION = {
  rawHours: 48,
  hourlyDays: 7,
  dailyDays: 365,
  monthlyMonths: 60,
} as const;

export type RetentionPolicy = { rawHours: number; hourlyDays: number; dailyDays: number; monthlyMonths: number };

/** Each hourly run also re-rolls this many hours before the watermark, to take in late raw rows. */
export const DEFAULT_TRAILING_HOURS = 3;

const isoTime = z.string();

/** One window of one rollup on one shard, as recorded in strata_job_runs. */
export const runRecordSchema = z.object({
  id: z.number().int(),
  /** Groups the windows of one invocation across shards. */
  runId: z.string().nullable(),
  /** The shard the window was rolled up on (a failure of an unreachable shard is recorded on another one). */
  shard: z.number().int().nonnegative(),
  shardName: z.string(),
  level: rollupLevelSchema,
  windowStart: isoTime,
  windowEnd: isoTime,
  trigger: runTriggerSchema,
  host: z.string(),
  startedAt: isoTime,
  finishedAt: isoTime.nullable(),
  durationMs: z.number().int().nonnegative().nullable(),
  outcome: runOutcomeSchema,
  rowsRead: z.number().int().nonnegative(),
  rowsWritten: z.number().int().nonnegative(),
  fencingToken: z.number().int().nonnegative().nullable(),
  error: z.string().nullable(),
  /** The process that ran it (null for runs recorded before migration 6). */
  pid: z.number().int().nonnegative().nullable().optional(),
});

/** Where one level stands on one shard. `watermark` is the exclusive end of the last contiguous completed window. */
export const watermarkRowSchema = z.object({
  shard: z.number().int().nonnegative(),
  shardName: z.string(),
  level: rollupLevelSchema,
  watermark: isoTime.nullable(),
  /** Start of the first window the watermark was begun with: the level holds complete data from here on. */
  coveredFrom: isoTime.nullable(),
  fencingToken: z.number().int().nonnegative(),
  updatedAt: isoTime.nullable(),
  updatedBy: z.string().nullable(),
  problem: z.object({ code: z.number().int(), message: z.string() }).optional(),
});

export const watermarkEffectSchema = z.enum(['advanced', 'unchanged', 'fenced']);

export const windowResultSchema = z.object({
  windowStart: isoTime,
  windowEnd: isoTime,
  outcome: runOutcomeSchema,
  rowsRead: z.number().int().nonnegative(),
  rowsWritten: z.number().int().nonnegative(),
  durationMs: z.number().int().nonnegative(),
  /** What the window did to the watermark; absent when it failed. */
  watermark: watermarkEffectSchema.optional(),
  error: z.string().optional(),
  /** The error code of a window that was refused rather than broken (7003: its source holds fewer page views than its rows). */
  code: z.number().int().optional(),
  /** A committed window's page views differ from what it held before the run (late rows arrived; a first roll-up held none). */
  pageViewsChanged: z.boolean().optional(),
});

export const shardRollupReportSchema = z.object({
  shard: z.number().int().nonnegative(),
  shardName: z.string(),
  watermarkBefore: isoTime.nullable(),
  watermarkAfter: isoTime.nullable(),
  /** False when the shard's watermark could not be read: before and after are then unknown, not none. */
  watermarkRead: z.boolean().optional(),
  windows: z.array(windowResultSchema),
  /** Why the shard could not start, or why it stopped. */
  problem: z.object({ code: z.number().int(), message: z.string() }).optional(),
});

export const rollupReportSchema = z.object({
  runId: z.string(),
  level: rollupLevelSchema,
  trigger: runTriggerSchema,
  /** True when every window on every shard came out `ok` (or `fenced` in a run without the lease, which never owns a watermark). */
  ok: z.boolean(),
  shards: z.array(shardRollupReportSchema),
});

export const plannedWindowSchema = z.object({
  windowStart: isoTime,
  windowEnd: isoTime,
  /** `trailing`: re-rolled to take in late data; `due`: after the watermark; `range`: asked for. */
  reason: z.enum(['due', 'trailing', 'range']),
  /** Estimated source rows (the source partition's statistics); null when no partition matches the window. */
  estimatedSourceRows: z.number().int().nonnegative().nullable(),
});

export const rollupPlanSchema = z.object({
  level: rollupLevelSchema,
  shards: z.array(
    z.object({
      shard: z.number().int().nonnegative(),
      shardName: z.string(),
      watermark: isoTime.nullable(),
      windows: z.array(plannedWindowSchema),
      problem: z.object({ code: z.number().int(), message: z.string() }).optional(),
    }),
  ),
});

/** The latest runs merged from every shard, and the shards whose history could not be read (the list lacks theirs). */
export const runHistorySchema = z.object({ runs: z.array(runRecordSchema), unreadShards: z.array(unreadShardSchema) });

export const runsRequestSchema = z
  .object({ limit: z.number().int().min(1).max(1000).default(50), level: rollupLevelSchema.optional() })
  .strict();

export type RunRecord = z.infer<typeof runRecordSchema>;
export type RollupRunHistory = z.infer<typeof runHistorySchema>;
export type WatermarkRow = z.infer<typeof watermarkRowSchema>;
export type WatermarkEffect = z.infer<typeof watermarkEffectSchema>;
export type WindowResult = z.infer<typeof windowResultSchema>;
export type ShardRollupReport = z.infer<typeof shardRollupReportSchema>;
export type RollupReport = z.infer<typeof rollupReportSchema>;
export type PlannedWindow = z.infer<typeof plannedWindowSchema>;
export type RollupPlan = z.infer<typeof rollupPlanSchema>;
