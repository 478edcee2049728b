import { z } from 'zod';

/**
 * The whole IPC contract between the console and the main process (and the test web host).
 * Every channel is `domain:verb` with a zod request and response schema; types come from z.infer.
 * Hosts register handlers for exactly these channels, and the preload exposes them as typed functions.
 */

export const TABLE_NAMES = ['analytics_realtime', 'analytics_hourly', 'analytics_daily', 'analytics_monthly'] as const;

export const problemSchema = z.object({ code: z.number().int(), message: z.string() });

export const tableEstimateSchema = z.object({
  table: z.string(),
  estimatedRows: z.number().int().nonnegative(),
  dataBytes: z.number().int().nonnegative(),
  indexBytes: z.number().int().nonnegative(),
});

export const shardStatusSchema = z.object({
  index: z.number().int().nonnegative(),
  name: z.string(),
  host: z.string(),
  port: z.number().int(),
  database: z.string(),
  reachable: z.boolean(),
  problem: problemSchema.optional(),
  serverVersion: z.string().optional(),
  latencyMs: z.number().nonnegative().optional(),
  schemaVersion: z.number().int().nonnegative().optional(),
  tables: z.array(tableEstimateSchema),
});

export const redisStatusSchema = z.object({
  url: z.string(),
  reachable: z.boolean(),
  problem: problemSchema.optional(),
  serverVersion: z.string().optional(),
  latencyMs: z.number().nonnegative().optional(),
  usedMemoryBytes: z.number().int().nonnegative().optional(),
});

export const clusterStatusSchema = z.object({
  checkedAt: z.string(),
  profileName: z.string(),
  healthy: z.boolean(),
  /** Things that are reachable but outside the health targets (latency over 100 ms, for example). */
  warnings: z.array(z.string()),
  shards: z.array(shardStatusSchema),
  redis: redisStatusSchema,
});

export const emptyRequest = z.object({}).strict();

/** Channel name → request and response schemas. Adding a channel here is the only way to add one. */
export const channels = {
  'cluster:status': { request: emptyRequest, response: clusterStatusSchema },
} as const;

export type Channels = typeof channels;
export type ChannelName = keyof Channels;
export type ChannelRequest<C extends ChannelName> = z.infer<Channels[C]['request']>;
export type ChannelResponse<C extends ChannelName> = z.infer<Channels[C]['response']>;

export type TableEstimate = z.infer<typeof tableEstimateSchema>;
export type ShardStatus = z.infer<typeof shardStatusSchema>;
export type RedisStatus = z.infer<typeof redisStatusSchema>;
export type ClusterStatus = z.infer<typeof clusterStatusSchema>;

export function isChannelName(name: string): name is ChannelName {
  return Object.hasOwn(channels, name);
}
