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
