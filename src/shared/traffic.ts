import { z } from 'zod';
import { unreadShardSchema } from './problem';

/**
 * Traffic charts (issue 12): page views and visitors of one site, the top sites of a range or the whole cluster,
 * read from the rollup table the application would read, with the windows not rolled up yet taken from the levels
 * below and marked provisional. Times are ISO-8601 UTC strings.
 *
 * Visitors are never summed across periods: a site's visitors over a range come from merging its rows' HyperLogLog
 * sketches. Sites are disjoint across shards, but a visitor id is per site, so for `top` and `cluster` visitors
 * means each site's unique visitors summed over the sites (a person who visits two sites counts twice).
 */

const isoTime = z.string().min(1).max(40);

export const TRAFFIC_TABLES = ['analytics_hourly', 'analytics_daily', 'analytics_monthly'] as const;
export type TrafficTable = (typeof TRAFFIC_TABLES)[number];
export const TOP_LIMIT_MAX = 100;

export const trafficScopeSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('site'), siteId: z.number().int().nonnegative().max(4_294_967_295) }),
  z.object({ kind: z.literal('top'), limit: z.number().int().min(1).max(TOP_LIMIT_MAX) }),
  z.object({ kind: z.literal('cluster') }),
]);

export const trafficRequestSchema = z.object({
  scope: trafficScopeSchema,
  from: isoTime,
  to: isoTime,
  /** Read and write Strata's chart cache (default true); false always reads the shards and stores nothing. */
  cache: z.boolean().optional(),
});

export const trafficPointSchema = z.object({
  /** Start of the period. */
  t: isoTime,
  pageViews: z.number().int().nonnegative(),
  /** Unique visitors of the period (summed over sites for top and cluster). */
  visitors: z.number().int().nonnegative(),
  /** Not rolled up at the table's level yet on some shard: computed from the levels below (or raw rows). */
  provisional: z.boolean(),
});

export const trafficTopRowSchema = z.object({
  siteId: z.number().int().nonnegative(),
  shard: z.number().int().nonnegative(),
  pageViews: z.number().int().nonnegative(),
  visitors: z.number().int().nonnegative(),
});

export const trafficCacheSchema = z.discriminatedUnion('state', [
  /** Served from Strata's chart cache, computed `ageSeconds` ago: from Redis, or this process's tracked copy of it. */
  z.object({ state: z.literal('hit'), hit: z.literal(true), ageSeconds: z.number().nonnegative(), ttlSeconds: z.number().int().positive(), from: z.enum(['memory', 'redis']) }),
  /** Computed now and stored for `ttlSeconds`. */
  z.object({ state: z.literal('miss'), hit: z.literal(false), ageSeconds: z.literal(0), ttlSeconds: z.number().int().positive() }),
  /** Computed now and not stored: Redis did not answer, the request asked for no cache, or the answer is partial. */
  z.object({ state: z.literal('uncached'), hit: z.literal(false), reason: z.string() }),
]);

export const trafficAnswerSchema = z.object({
  scope: trafficScopeSchema,
  /** The range as asked. */
  requested: z.object({ from: isoTime, to: isoTime }),
  /** The range widened to whole periods of the table: what the series and totals cover. */
  from: isoTime,
  to: isoTime,
  table: z.enum(TRAFFIC_TABLES),
  period: z.enum(['hour', 'day', 'month']),
  /** One line: why this table (the range's length, and what retention still holds). */
  reason: z.string(),
  /** Where provisional windows start, when some are; said in one line. */
  provisionalNote: z.string().optional(),
  series: z.array(trafficPointSchema),
  totals: z.object({ pageViews: z.number().int().nonnegative(), visitors: z.number().int().nonnegative() }),
  /** What `visitors` means for this scope. */
  visitorsMeaning: z.string(),
  /** For `top`: the sites by page views, busiest first. */
  top: z.array(trafficTopRowSchema).optional(),
  shards: z.object({ answered: z.array(z.number().int().nonnegative()), failed: z.array(unreadShardSchema) }),
  /** True when some shard did not answer: the figures lack its sites. */
  partial: z.boolean(),
  cache: trafficCacheSchema,
  computedAt: isoTime,
});

export const trafficSitesRequestSchema = z.object({
  /** Digits of a site id to look for; empty lists the busiest sites. */
  search: z.string().max(10).regex(/^\d*$/, 'a site id is digits only').optional(),
  limit: z.number().int().min(1).max(100).optional(),
});

export const trafficSiteSchema = z.object({
  siteId: z.number().int().nonnegative(),
  shard: z.number().int().nonnegative(),
  /** Page views of the last 24 hours (hourly rows plus raw rows not rolled up yet). */
  pageViews24h: z.number().int().nonnegative(),
});

export const trafficSitesSchema = z.object({
  sites: z.array(trafficSiteSchema),
  failed: z.array(unreadShardSchema),
});

export type TrafficScope = z.infer<typeof trafficScopeSchema>;
export type TrafficRequest = z.infer<typeof trafficRequestSchema>;
export type TrafficPoint = z.infer<typeof trafficPointSchema>;
export type TrafficTopRow = z.infer<typeof trafficTopRowSchema>;
export type TrafficCacheState = z.infer<typeof trafficCacheSchema>;
export type TrafficAnswer = z.infer<typeof trafficAnswerSchema>;
export type TrafficSitesRequest = z.infer<typeof trafficSitesRequestSchema>;
export type TrafficSite = z.infer<typeof trafficSiteSchema>;
export type TrafficSites = z.infer<typeof trafficSitesSchema>;

/** The scope as text: `site 42`, `top 10`, `cluster`. */
export function describeScope(scope: TrafficScope): string {
  return scope.kind === 'site' ? `site ${scope.siteId}` : scope.kind === 'top' ? `top ${scope.limit}` : 'cluster';
}
