import { z } from 'zod';

/**
 * Partition listing, planning and applying (issue 4, part 1). Pure TypeScript: the CLI prints these, the
 * `partitions:list` channel carries the listing, and a later console page reads the same types.
 */

/** Everything partition maintenance warns about; none of them stops the other tables of a shard. */
export const PARTITION_WARNING_KINDS = ['catch-all-rows', 'too-few-ahead', 'not-partitioned', 'table-missing', 'name-conflict'] as const;

export const partitionWarningSchema = z.object({
  kind: z.enum(PARTITION_WARNING_KINDS),
  table: z.string(),
  /** One line for people, naming the table. */
  message: z.string(),
});

export const partitionInfoSchema = z.object({
  name: z.string(),
  ordinal: z.number().int().positive(),
  /** Lowest instant the partition holds: the previous partition's bound; null for the first (anything earlier). */
  from: z.string().nullable(),
  /** Its `VALUES LESS THAN` bound as an ISO time; null for the catch-all (MAXVALUE). */
  to: z.string().nullable(),
  rows: z.number().int().nonnegative(),
  dataBytes: z.number().int().nonnegative(),
  indexBytes: z.number().int().nonnegative(),
});

export const tablePartitionsSchema = z.object({
  table: z.string(),
  /** False for a table that exists without partitions, or does not exist (see the warnings). */
  partitioned: z.boolean(),
  partitions: z.array(partitionInfoSchema),
  warnings: z.array(partitionWarningSchema),
});

export const shardPartitionsSchema = z.object({
  index: z.number().int().nonnegative(),
  name: z.string(),
  reachable: z.boolean(),
  problem: z.object({ code: z.number().int(), message: z.string() }).optional(),
  tables: z.array(tablePartitionsSchema),
});

export const partitionListReportSchema = z.object({
  checkedAt: z.string(),
  /** True when `rows` are exact COUNT(*)s; otherwise they are information_schema estimates. */
  exact: z.boolean(),
  shards: z.array(shardPartitionsSchema),
});

export const partitionListRequestSchema = z.object({ exact: z.boolean().optional() }).strict();

export type PartitionWarningKind = (typeof PARTITION_WARNING_KINDS)[number];
export type PartitionWarning = z.infer<typeof partitionWarningSchema>;
export type PartitionInfo = z.infer<typeof partitionInfoSchema>;
export type TablePartitions = z.infer<typeof tablePartitionsSchema>;
export type ShardPartitions = z.infer<typeof shardPartitionsSchema>;
export type PartitionListReport = z.infer<typeof partitionListReportSchema>;
export type PartitionListRequest = z.infer<typeof partitionListRequestSchema>;

const problemShape = z.object({ code: z.number().int(), message: z.string() });

export const tablePlanReportSchema = z.object({
  table: z.string(),
  /** Names of the partitions the statements add. */
  adds: z.array(z.string()),
  statements: z.array(z.string()),
  warnings: z.array(partitionWarningSchema),
});

export const shardPlanSchema = z.object({
  index: z.number().int().nonnegative(),
  name: z.string(),
  reachable: z.boolean(),
  problem: problemShape.optional(),
  tables: z.array(tablePlanReportSchema),
});

export const partitionPlanReportSchema = z.object({ plannedAt: z.string(), shards: z.array(shardPlanSchema) });

export const appliedStatementSchema = z.object({ table: z.string(), sql: z.string(), ok: z.boolean(), problem: problemShape.optional() });

export const shardPartitionApplyResultSchema = z.object({
  index: z.number().int().nonnegative(),
  name: z.string(),
  /** `failed` when the shard could not be reached or any statement failed; `blocked` when a backup of it runs. */
  outcome: z.enum(['up-to-date', 'applied', 'failed', 'blocked']),
  statements: z.array(appliedStatementSchema),
  warnings: z.array(partitionWarningSchema),
  problem: problemShape.optional(),
});

export const partitionApplyReportSchema = z.object({ ok: z.boolean(), shards: z.array(shardPartitionApplyResultSchema) });

export const partitionApplyRequestSchema = z.strictObject({
  shards: z.array(z.number().int().nonnegative()).max(1024).optional(),
  /** Applying changes the tables, so the request must say so explicitly. */
  confirm: z.literal(true),
});

export const partitionApplyEventSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('statement-started'), shard: z.number().int(), shardName: z.string(), table: z.string(), position: z.number().int(), total: z.number().int(), sql: z.string() }),
  z.object({
    kind: z.literal('statement-finished'),
    shard: z.number().int(),
    shardName: z.string(),
    table: z.string(),
    position: z.number().int(),
    total: z.number().int(),
    ok: z.boolean(),
    message: z.string().optional(),
  }),
  z.object({ kind: z.literal('shard-finished'), shard: z.number().int(), shardName: z.string(), result: shardPartitionApplyResultSchema }),
]);

export type TablePlanReport = z.infer<typeof tablePlanReportSchema>;
export type ShardPlan = z.infer<typeof shardPlanSchema>;
export type PartitionPlanReport = z.infer<typeof partitionPlanReportSchema>;
export type AppliedStatement = z.infer<typeof appliedStatementSchema>;
export type ShardPartitionApplyResult = z.infer<typeof shardPartitionApplyResultSchema>;
export type PartitionApplyReport = z.infer<typeof partitionApplyReportSchema>;
export type PartitionApplyRequest = z.infer<typeof partitionApplyRequestSchema>;
export type PartitionApplyEvent = z.infer<typeof partitionApplyEventSchema>;

/**
 * Converting an unpartitioned analytics table (as plain seed DDL builds it) into Strata's partitioned layout with
 * one ALTER per shard. The plan shows size, estimated time, warnings and the exact SQL before anything runs.
 */
export const CONVERSION_ACTIONS = ['convert', 'already-partitioned', 'refused'] as const;
export const CONVERSION_OUTCOMES = ['converted', 'already-partitioned', 'refused', 'failed', 'cancelled', 'blocked'] as const;

export const conversionPartitionSchema = z.object({
  name: z.string(),
  /** Null for the first partition: it also holds every earlier row. */
  from: z.string().nullable(),
  /** Null for the catch-all (MAXVALUE). */
  to: z.string().nullable(),
});

export const tableConversionPlanSchema = z.object({
  table: z.string(),
  /** `refused`: the table cannot be converted as it is (see `problem`); nothing would run. */
  action: z.enum(CONVERSION_ACTIONS),
  problem: problemShape.optional(),
  /** The column the partition expression reads, and the expression. */
  column: z.string(),
  expression: z.string(),
  /** information_schema estimates: the exact count is taken just before the ALTER. */
  estimatedRows: z.number().int().nonnegative(),
  dataBytes: z.number().int().nonnegative(),
  indexBytes: z.number().int().nonnegative(),
  /** MIN of the partition column; null for an empty table (or when it was not read). */
  oldestRow: z.string().nullable(),
  /** Primary key columns before and after; equal when the key already holds the partition column. */
  primaryKeyBefore: z.array(z.string()),
  primaryKeyAfter: z.array(z.string()),
  partitions: z.array(conversionPartitionSchema),
  /** The one ALTER TABLE that converts the table; null when nothing would run. */
  statement: z.string().nullable(),
  estimatedSeconds: z.number().int().nonnegative(),
  /** Lines for people: what the ALTER costs and what changes beside the partitioning. */
  warnings: z.array(z.string()),
});

export const shardConversionPlanSchema = z.object({
  index: z.number().int().nonnegative(),
  name: z.string(),
  reachable: z.boolean(),
  problem: problemShape.optional(),
  /** Absent when the shard could not be read. */
  plan: tableConversionPlanSchema.optional(),
});

export const conversionPlanReportSchema = z.object({ table: z.string(), plannedAt: z.string(), shards: z.array(shardConversionPlanSchema) });

export const shardConversionResultSchema = z.object({
  index: z.number().int().nonnegative(),
  name: z.string(),
  /** `cancelled`: the ALTER was stopped and rolled back, the table is as it was; `blocked`: a backup of the shard runs. */
  outcome: z.enum(CONVERSION_OUTCOMES),
  /** The plan made under the lock, just before the ALTER; absent when the shard could not be read. */
  plan: tableConversionPlanSchema.optional(),
  /** Exact COUNT(*)s just before and right after the ALTER, under the same write lock; null when not taken. */
  rowsBefore: z.number().int().nonnegative().nullable(),
  rowsAfter: z.number().int().nonnegative().nullable(),
  elapsedMs: z.number().int().nonnegative(),
  problem: problemShape.optional(),
});

export const conversionReportSchema = z.object({
  table: z.string(),
  /** True when every shard was converted or already partitioned. */
  ok: z.boolean(),
  shards: z.array(shardConversionResultSchema),
});

export const conversionPlanRequestSchema = z.strictObject({
  table: z.string().min(1).max(64),
  shards: z.array(z.number().int().nonnegative()).max(1024).optional(),
});

/** Converting rewrites whole tables, so the request must say so explicitly. */
export const conversionRunRequestSchema = conversionPlanRequestSchema.extend({ confirm: z.literal(true) });

export const conversionEventSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('shard-started'),
    shard: z.number().int(),
    shardName: z.string(),
    table: z.string(),
    rowsBefore: z.number().int().nonnegative(),
    estimatedSeconds: z.number().int().nonnegative(),
  }),
  z.object({
    kind: z.literal('progress'),
    shard: z.number().int(),
    shardName: z.string(),
    table: z.string(),
    /** Of the whole ALTER, from the server's stage progress; null when the server does not report it (MySQL). */
    percent: z.number().min(0).max(100).nullable(),
    /** The server's state, such as `copy to tmp table` or `Enabling keys`. */
    stage: z.string().nullable(),
    elapsedMs: z.number().int().nonnegative(),
  }),
  z.object({ kind: z.literal('shard-finished'), shard: z.number().int(), shardName: z.string(), table: z.string(), result: shardConversionResultSchema }),
]);

export type ConversionPartition = z.infer<typeof conversionPartitionSchema>;
export type TableConversionPlan = z.infer<typeof tableConversionPlanSchema>;
export type ShardConversionPlan = z.infer<typeof shardConversionPlanSchema>;
export type ConversionPlanReport = z.infer<typeof conversionPlanReportSchema>;
export type ShardConversionResult = z.infer<typeof shardConversionResultSchema>;
export type ConversionReport = z.infer<typeof conversionReportSchema>;
export type ConversionPlanRequest = z.infer<typeof conversionPlanRequestSchema>;
export type ConversionRunRequest = z.infer<typeof conversionRunRequestSchema>;
export type ConversionEvent = z.infer<typeof conversionEventSchema>;
