import { z } from 'zod';
import { rollupLevelSchema } from './rollup';

/**
 * Backfills: recomputing a range of rollup windows (and, with cascade, the coarser windows above them), window by
 * window, resumable after a crash. Shared by the engine, the CLI and the console; times are ISO-8601 UTC strings.
 */

/**
 * What is stored. `cancelling`: someone asked to cancel it and the process running it has not stopped yet.
 * `interrupted` is never stored: it is a `running` or `cancelling` backfill whose process is gone.
 */
export const BACKFILL_STATES = ['running', 'cancelling', 'interrupted', 'done', 'cancelled', 'failed'] as const;
export const backfillStateSchema = z.enum(BACKFILL_STATES);
export type BackfillState = z.infer<typeof backfillStateSchema>;

/** States `--resume` and the Resume button continue from the next window. */
export const RESUMABLE_STATES: readonly BackfillState[] = ['interrupted', 'cancelled', 'failed'];

/** States Cancel accepts: a live backfill wherever it runs, or an interrupted one (which is just marked cancelled). */
export const CANCELLABLE_STATES: readonly BackfillState[] = ['running', 'cancelling', 'interrupted'];

const isoTime = z.string();

export const backfillRequestSchema = z
  .object({
    level: rollupLevelSchema,
    from: isoTime,
    to: isoTime,
    /** Shard indexes; all shards when absent. */
    shards: z.array(z.number().int().nonnegative()).max(1024).optional(),
    /** Also re-roll the days covering changed hours and the months covering those days. */
    cascade: z.boolean().default(false),
  })
  .strict();

export const backfillWindowSchema = z.object({
  level: rollupLevelSchema,
  windowStart: isoTime,
  windowEnd: isoTime,
  /** `range`: asked for; `cascade`: a coarser window above it, run only where its source is complete. */
  kind: z.enum(['range', 'cascade']),
  /** Sum over the shards of the source partitions' row statistics. */
  estimatedSourceRows: z.number().int().nonnegative(),
  estimatedMs: z.number().int().nonnegative(),
});

/** Consecutive windows that cannot be rebuilt because their source data was pruned. */
export const refusedRangeSchema = z.object({
  level: rollupLevelSchema,
  from: isoTime,
  to: isoTime,
  /** The level whose rows still hold this range (its next level up can be backfilled from it); null when none does. */
  rebuildFrom: rollupLevelSchema.nullable(),
  message: z.string(),
});

export const timeEstimateSchema = z.object({
  /** `history`: from past runs of the level; `fallback`: no usable history, an assumed rate. */
  basis: z.enum(['history', 'fallback']),
  msPerRow: z.number().nonnegative(),
  msPerWindow: z.number().nonnegative(),
  /** One line saying where the numbers come from. */
  note: z.string(),
});

export const backfillPlanSchema = z.object({
  level: rollupLevelSchema,
  from: isoTime,
  to: isoTime,
  shards: z.array(z.number().int().nonnegative()),
  cascade: z.boolean(),
  windows: z.array(backfillWindowSchema),
  refused: z.array(refusedRangeSchema),
  estimates: z.record(z.string(), timeEstimateSchema),
  estimatedSourceRows: z.number().int().nonnegative(),
  estimatedMs: z.number().int().nonnegative(),
  /** Shards that could not be planned (unreachable); a backfill does not start while any is listed. */
  problems: z.array(z.object({ shard: z.number().int().nonnegative(), code: z.number().int(), message: z.string() })),
});

export const backfillRecordSchema = z.object({
  id: z.number().int().positive(),
  level: rollupLevelSchema,
  from: isoTime,
  to: isoTime,
  shards: z.array(z.number().int().nonnegative()),
  cascade: z.boolean(),
  state: backfillStateSchema,
  windowsTotal: z.number().int().nonnegative(),
  windowsDone: z.number().int().nonnegative(),
  nextWindowLevel: rollupLevelSchema.nullable(),
  nextWindowStart: isoTime.nullable(),
  rowsRead: z.number().int().nonnegative(),
  rowsWritten: z.number().int().nonnegative(),
  estimatedMs: z.number().int().nonnegative(),
  /** `user@host` of whoever started it, and the host and pid running it now (or last). */
  createdBy: z.string(),
  host: z.string(),
  pid: z.number().int().nonnegative(),
  createdAt: isoTime,
  startedAt: isoTime,
  updatedAt: isoTime,
  finishedAt: isoTime.nullable(),
  error: z.string().nullable(),
});

export const backfillProgressSchema = z.object({
  backfillId: z.number().int().positive(),
  kind: z.enum(['window-started', 'window-finished', 'finished']),
  state: backfillStateSchema,
  windowsDone: z.number().int().nonnegative(),
  windowsTotal: z.number().int().nonnegative(),
  /** The window started or finished; absent on `finished`. */
  window: z.object({ level: rollupLevelSchema, windowStart: isoTime, windowEnd: isoTime }).optional(),
  /** Shards a cascade window left out because their source is not complete yet. */
  skippedShards: z.array(z.number().int().nonnegative()).optional(),
  rowsRead: z.number().int().nonnegative(),
  rowsWritten: z.number().int().nonnegative(),
  elapsedMs: z.number().int().nonnegative(),
  estimatedRemainingMs: z.number().int().nonnegative(),
  error: z.string().optional(),
});

/** One window as a run did it, for the CLI's report. */
export const backfillWindowResultSchema = z.object({
  level: rollupLevelSchema,
  windowStart: isoTime,
  windowEnd: isoTime,
  outcome: z.enum(['ok', 'skipped', 'failed', 'cancelled']),
  shards: z.array(z.number().int().nonnegative()),
  skippedShards: z.array(z.number().int().nonnegative()),
  rowsRead: z.number().int().nonnegative(),
  rowsWritten: z.number().int().nonnegative(),
  error: z.string().optional(),
});

export const backfillIdRequestSchema = z.object({ id: z.number().int().positive() }).strict();
export const backfillListRequestSchema = z.object({ limit: z.number().int().min(1).max(200).default(20) }).strict();

export type BackfillRequest = z.infer<typeof backfillRequestSchema>;
export type BackfillRequestInput = z.input<typeof backfillRequestSchema>;
export type BackfillWindow = z.infer<typeof backfillWindowSchema>;
export type RefusedRange = z.infer<typeof refusedRangeSchema>;
export type TimeEstimate = z.infer<typeof timeEstimateSchema>;
export type BackfillPlan = z.infer<typeof backfillPlanSchema>;
export type BackfillRecord = z.infer<typeof backfillRecordSchema>;
export type BackfillProgress = z.infer<typeof backfillProgressSchema>;
export type BackfillWindowResult = z.infer<typeof backfillWindowResultSchema>;
