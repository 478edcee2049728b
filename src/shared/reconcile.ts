import { z } from 'zod';
import { problemSchema, unreadShardSchema } from './problem';
import { rollupLevelSchema, runTriggerSchema } from './rollup';

/**
 * Reconciliation (issue 9): page views compared level by level over what retention still holds (raw with hourly,
 * hourly with daily, daily with monthly), and the windows that differ re-rolled with the levels above them. Pure
 * TypeScript shared by the engine, the CLI and the console; times are ISO-8601 UTC strings.
 */

const isoTime = z.string();

/**
 * Why a window is listed:
 * - `late-rows`: its source holds more page views than the level (rows that came after the window was rolled up);
 * - `source-short`: its source holds fewer (pruned or deleted): re-rolling would lose page views, so it is kept;
 * - `cascade`: a window below it is re-rolled, so it is re-rolled after it.
 */
export const RECONCILE_FINDINGS = ['late-rows', 'source-short', 'cascade'] as const;
export const reconcileFindingSchema = z.enum(RECONCILE_FINDINGS);

/** What happened to a listed window: `would-re-roll` in a dry run, `kept` for a source-short window. */
export const RECONCILE_ACTIONS = ['would-re-roll', 're-rolled', 'failed', 'kept'] as const;
export const reconcileActionSchema = z.enum(RECONCILE_ACTIONS);

export const reconcileWindowSchema = z.object({
  windowStart: isoTime,
  windowEnd: isoTime,
  finding: reconcileFindingSchema,
  /** Page views of the source (raw rows for hourly), and what the level holds, when the window was compared. */
  sourcePageViews: z.number().int().nonnegative(),
  levelPageViews: z.number().int().nonnegative(),
  action: reconcileActionSchema,
  error: z.string().optional(),
});

export const reconcileLevelSchema = z.object({
  level: rollupLevelSchema,
  /** The whole windows compared: [from, to); absent when nothing could be compared (`note` says why). */
  from: isoTime.optional(),
  to: isoTime.optional(),
  windowsChecked: z.number().int().nonnegative(),
  /** Only the windows that differ or are re-rolled by cascade; every other checked window matched. */
  windows: z.array(reconcileWindowSchema),
  note: z.string().optional(),
});

/**
 * - `matched`: every checked window matched; `repaired`: the ones that differed were re-rolled;
 * - `differs`: a dry run found windows to re-roll; `unrepaired`: a source-short window was kept;
 * - `failed`: the shard could not be read, or a re-roll failed.
 */
export const RECONCILE_OUTCOMES = ['matched', 'repaired', 'differs', 'unrepaired', 'failed'] as const;
export const reconcileOutcomeSchema = z.enum(RECONCILE_OUTCOMES);

export const shardReconcileSchema = z.object({
  shard: z.number().int().nonnegative(),
  shardName: z.string(),
  outcome: reconcileOutcomeSchema,
  problem: problemSchema.optional(),
  levels: z.array(reconcileLevelSchema),
});

export const reconcileReportSchema = z.object({
  runId: z.string(),
  checkedAt: isoTime,
  dryRun: z.boolean(),
  trigger: runTriggerSchema,
  /** False when a shard could not be read, a re-roll failed, or a window could not be repaired. */
  ok: z.boolean(),
  /** Things that did not stop the run, such as a retention policy that could not be read (the defaults were used). */
  warnings: z.array(z.string()),
  shards: z.array(shardReconcileSchema),
});

/** A range to reconcile (default: everything retention still holds), and the shards (default: all). */
export const reconcileRequestSchema = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  shards: z.array(z.number().int().nonnegative()).max(1024).optional(),
});

/** A reconciliation re-rolls windows, so running one must say so explicitly. */
export const reconcileRunRequestSchema = reconcileRequestSchema.extend({ confirm: z.literal(true) });

/** One reconciliation of one shard, from strata_job_runs. */
export const reconcileRunSchema = z.object({
  id: z.number().int(),
  runId: z.string().nullable(),
  shard: z.number().int().nonnegative(),
  shardName: z.string(),
  trigger: z.string(),
  host: z.string(),
  startedAt: isoTime,
  outcome: z.string(),
  detail: z.string().nullable(),
  error: z.string().nullable(),
});

/** The latest reconciliations merged from every shard, and the shards whose history could not be read. */
export const reconcileRunHistorySchema = z.object({ runs: z.array(reconcileRunSchema), unreadShards: z.array(unreadShardSchema) });

export const reconcileRunsRequestSchema = z.strictObject({ limit: z.number().int().min(1).max(1000).default(20) });

export type ReconcileFinding = z.infer<typeof reconcileFindingSchema>;
export type ReconcileAction = z.infer<typeof reconcileActionSchema>;
export type ReconcileWindow = z.infer<typeof reconcileWindowSchema>;
export type ReconcileLevel = z.infer<typeof reconcileLevelSchema>;
export type ReconcileOutcome = z.infer<typeof reconcileOutcomeSchema>;
export type ShardReconcile = z.infer<typeof shardReconcileSchema>;
export type ReconcileReport = z.infer<typeof reconcileReportSchema>;
export type ReconcileRequest = z.infer<typeof reconcileRequestSchema>;
export type ReconcileRunRequest = z.infer<typeof reconcileRunRequestSchema>;
export type ReconcileRun = z.infer<typeof reconcileRunSchema>;
export type ReconcileRunHistory = z.infer<typeof reconcileRunHistorySchema>;
