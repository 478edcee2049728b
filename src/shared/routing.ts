/**
 * The one place that decides which shard owns a site. Every reader and writer goes through here,
 * so a change of rule can never leave two parts of Strata disagreeing about where a site lives.
 */
export function shardForSite(siteId: number, shardCount: number): number {
  if (!Number.isSafeInteger(siteId) || siteId < 0) throw new RangeError(`site_id must be a non-negative integer, got ${siteId}`);
  if (!Number.isInteger(shardCount) || shardCount < 1) throw new RangeError(`shard count must be at least 1, got ${shardCount}`);
  return siteId % shardCount;
}
