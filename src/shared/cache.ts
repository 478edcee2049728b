import { z } from 'zod';
import { problemSchema } from './problem';

/**
 * The application's Redis cache of charts (issue 12): its keys, Strata's invalidations of them and the figures of
 * the cache. Strata reads and deletes these keys, never writes them. Times are ISO-8601 UTC strings.
 */

const isoTime = z.string();
const isoInstant = z.iso.datetime({ offset: true }).or(z.iso.date());

/** `stats`: `site_{siteId}_stats_24h` (the last 24 h); `chart`: `chart_{siteId}_{period}_{startDate}_{endDate}`. */
export const CACHE_KEY_KINDS = ['stats', 'chart'] as const;
export const cacheKeyKindSchema = z.enum(CACHE_KEY_KINDS);

/** What caused an invalidation: a backfill, a reconciliation's re-rolls, a rollup that re-ran rolled-up windows, or a person. */
export const INVALIDATION_RUN_KINDS = ['backfill', 'reconcile', 'rollup', 'manual'] as const;
export const invalidationRunKindSchema = z.enum(INVALIDATION_RUN_KINDS);

/** One of the application's keys, as `cache keys` lists it. */
export const cacheKeySchema = z.object({
  /** The whole Redis key, prefix included. */
  key: z.string(),
  kind: cacheKeyKindSchema,
  siteId: z.number().int().nonnegative(),
  /** Chart keys only: the period (`1d`, `30d`…) and the inclusive dates (YYYY-MM-DD). */
  period: z.string().nullable(),
  startDate: z.string().nullable(),
  endDate: z.string().nullable(),
  /** Seconds left; null when the key has no expiry (or vanished while it was read). */
  ttlSeconds: z.number().int().nullable(),
  /** `MEMORY USAGE`; null when the key vanished while it was read. */
  sizeBytes: z.number().int().nonnegative().nullable(),
});

export const cacheKeysRequestSchema = z.strictObject({
  siteId: z.number().int().nonnegative().optional(),
  limit: z.number().int().min(1).max(1000).default(200),
});

export const cacheKeysReportSchema = z.object({
  prefix: z.string(),
  keys: z.array(cacheKeySchema),
  /** Keys SCAN returned under the patterns (before the limit). */
  matched: z.number().int().nonnegative(),
  /** True when more keys matched than the limit lists. */
  truncated: z.boolean(),
});

/** A site (optionally a date range of it), or every chart and stats key. */
export const cacheInvalidateRequestSchema = z
  .strictObject({
    siteId: z.number().int().nonnegative().optional(),
    from: isoInstant.optional(),
    to: isoInstant.optional(),
    all: z.literal(true).optional(),
    dryRun: z.boolean().default(false),
  })
  .refine((request) => (request.siteId !== undefined) !== (request.all === true), { message: 'give either siteId or all, not both and not neither' })
  .refine((request) => (request.from === undefined) === (request.to === undefined), { message: 'give from and to together' })
  .refine((request) => !(request.all && request.from), { message: 'a range goes with a site, not with all' });

export const cacheInvalidationResultSchema = z.object({
  at: isoTime,
  dryRun: z.boolean(),
  /** `site 42 from … to …`, `all sites`. */
  scope: z.string(),
  /** Keys that overlap the scope (what a dry run would delete). */
  matched: z.number().int().nonnegative(),
  /** Keys deleted (0 in a dry run; fewer than matched when some expired meanwhile). */
  deleted: z.number().int().nonnegative(),
  /** Keys SCAN looked at under the patterns. */
  scanned: z.number().int().nonnegative(),
  /** The first matched keys, for the confirmation. */
  sample: z.array(z.string()),
});

/** One invalidation Strata made (automatic after a run, or manual), from strata_cache_invalidations. */
export const cacheInvalidationLogEntrySchema = z.object({
  id: z.number().int(),
  at: isoTime,
  runKind: invalidationRunKindSchema,
  /** The backfill id, rollup or reconcile run id; null for a manual one. */
  runId: z.string().nullable(),
  /** The shards whose sites changed; null when the scope was a site or all sites. */
  shards: z.array(z.number().int().nonnegative()).nullable(),
  siteId: z.number().int().nonnegative().nullable(),
  from: isoTime.nullable(),
  to: isoTime.nullable(),
  /** Null when nothing was deleted because Redis could not be reached. */
  keysDeleted: z.number().int().nonnegative().nullable(),
  outcome: z.enum(['invalidated', 'not-invalidated']),
  /** `not invalidated: Redis unreachable (…)`. */
  note: z.string().nullable(),
});

export const cacheInvalidationsRequestSchema = z.strictObject({ limit: z.number().int().min(1).max(200).default(20) });
export const cacheInvalidationLogSchema = z.object({ entries: z.array(cacheInvalidationLogEntrySchema), problem: problemSchema.optional() });

export const cacheStatsSchema = z.object({
  at: isoTime,
  /** The Redis URL, credentials removed. */
  redis: z.string(),
  prefix: z.string(),
  /** From `INFO stats` since the server started: the whole server's lookups, not only the application's. */
  hits: z.number().int().nonnegative(),
  misses: z.number().int().nonnegative(),
  hitRatio: z.number().min(0).max(1).nullable(),
  usedMemoryBytes: z.number().int().nonnegative(),
  /** Null when Redis has no maxmemory. */
  maxMemoryBytes: z.number().int().nonnegative().nullable(),
  evictedKeys: z.number().int().nonnegative(),
  expiredKeys: z.number().int().nonnegative(),
  keysByKind: z.object({ stats: z.number().int().nonnegative(), chart: z.number().int().nonnegative() }),
  /** Distinct sites with a key, and the busiest ones by key count. */
  sites: z.number().int().nonnegative(),
  topSites: z.array(z.object({ siteId: z.number().int().nonnegative(), keys: z.number().int().nonnegative() })),
  /** True when the key count stopped at the scan bound. */
  truncated: z.boolean(),
  invalidations: cacheInvalidationLogSchema,
});

export type CacheKeyKind = z.infer<typeof cacheKeyKindSchema>;
export type InvalidationRunKind = z.infer<typeof invalidationRunKindSchema>;
export type CacheKey = z.infer<typeof cacheKeySchema>;
export type CacheKeysRequest = z.input<typeof cacheKeysRequestSchema>;
export type CacheKeysReport = z.infer<typeof cacheKeysReportSchema>;
export type CacheInvalidateRequest = z.input<typeof cacheInvalidateRequestSchema>;
export type CacheInvalidationResult = z.infer<typeof cacheInvalidationResultSchema>;
export type CacheInvalidationLogEntry = z.infer<typeof cacheInvalidationLogEntrySchema>;
export type CacheInvalidationLog = z.infer<typeof cacheInvalidationLogSchema>;
export type CacheStats = z.infer<typeof cacheStatsSchema>;
