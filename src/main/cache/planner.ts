import type { CacheKeyKind } from '../../shared/cache';
import { DEFAULT_APP_CACHE, type CacheProfile } from '../../shared/profile';
import type { ReconcileReport } from '../../shared/reconcile';
import type { RollupReport } from '../../shared/rollup';
import { CHART_CACHE_PREFIX } from '../traffic/planner';

/**
 * Pure planning of the application's cache: reading its key shapes, which keys a change of history makes stale,
 * and the SCAN patterns and batch sizes that find them. No Redis here.
 */

/** SCAN's COUNT hint: how many slots one call walks; Redis stays responsive between calls. */
export const SCAN_COUNT = 500;
/** Keys per UNLINK, and per pipeline of TTL/MEMORY USAGE. */
export const DELETE_BATCH = 500;
/** A scan stops after this many matching keys, so a runaway keyspace cannot hold a command for ever. */
export const MAX_SCANNED_KEYS = 1_000_000;
/** Keys a confirmation shows. */
export const SAMPLE_KEYS = 20;

const DAY_MS = 86_400_000;

/** One of the application's keys, read from its name. Dates are inclusive whole UTC days. */
export type AppKey =
  | { kind: 'stats'; siteId: number }
  | { kind: 'chart'; siteId: number; period: string; startDate: string; endDate: string };

interface CompiledPattern {
  kind: CacheKeyKind;
  template: string;
  regex: RegExp;
  /** Capture group order of the placeholders. */
  groups: string[];
}

/** The profile's prefix and key shapes, compiled once. */
export interface AppKeyPatterns {
  prefix: string;
  stats: CompiledPattern;
  chart: CompiledPattern;
}

const PLACEHOLDERS: Record<string, string> = {
  siteId: '(\\d{1,10})',
  period: '([A-Za-z0-9]{1,16})',
  startDate: '(\\d{4}-\\d{2}-\\d{2})',
  endDate: '(\\d{4}-\\d{2}-\\d{2})',
};

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Redis glob: `*`, `?`, `[`, `]` and `\` are special. */
export const escapeGlob = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&');

function compile(kind: CacheKeyKind, template: string): CompiledPattern {
  const groups: string[] = [];
  const source = template
    .split(/(\{[A-Za-z]+\})/)
    .map((part) => {
      const name = /^\{([A-Za-z]+)\}$/.exec(part)?.[1];
      if (name && PLACEHOLDERS[name]) {
        groups.push(name);
        return PLACEHOLDERS[name];
      }
      return escapeRegex(part);
    })
    .join('');
  return { kind, template, regex: new RegExp(`^${source}$`), groups };
}

export function compilePatterns(profile: CacheProfile | undefined): AppKeyPatterns {
  return {
    prefix: profile?.appKeyPrefix ?? DEFAULT_APP_CACHE.appKeyPrefix,
    stats: compile('stats', profile?.statsKeyPattern ?? DEFAULT_APP_CACHE.statsKeyPattern),
    chart: compile('chart', profile?.chartKeyPattern ?? DEFAULT_APP_CACHE.chartKeyPattern),
  };
}

const validDate = (text: string) => {
  const at = Date.parse(`${text}T00:00:00Z`);
  return Number.isFinite(at) && new Date(at).toISOString().slice(0, 10) === text;
};

/** The application key a Redis key names, or undefined for any other key (another prefix, another shape). */
export function parseAppKey(key: string, patterns: AppKeyPatterns): AppKey | undefined {
  if (!key.startsWith(patterns.prefix)) return undefined;
  const rest = key.slice(patterns.prefix.length);
  for (const pattern of [patterns.stats, patterns.chart]) {
    const match = pattern.regex.exec(rest);
    if (!match) continue;
    const value = (name: string) => match[pattern.groups.indexOf(name) + 1]!;
    const siteId = Number(value('siteId'));
    if (!Number.isSafeInteger(siteId)) continue;
    if (pattern.kind === 'stats') return { kind: 'stats', siteId };
    const startDate = value('startDate');
    const endDate = value('endDate');
    if (!validDate(startDate) || !validDate(endDate) || startDate > endDate) continue;
    return { kind: 'chart', siteId, period: value('period'), startDate, endDate };
  }
  return undefined;
}

/** The SCAN MATCH patterns of both shapes, for one site or every site. */
export function matchPatterns(patterns: AppKeyPatterns, siteId?: number): string[] {
  return [patterns.stats, patterns.chart].map((pattern) =>
    escapeGlob(patterns.prefix) +
    pattern.template
      .split(/(\{[A-Za-z]+\})/)
      .map((part) => {
        const name = /^\{([A-Za-z]+)\}$/.exec(part)?.[1];
        if (name === 'siteId' && siteId !== undefined) return String(siteId);
        if (name && PLACEHOLDERS[name]) return '*';
        return escapeGlob(part);
      })
      .join(''),
  );
}

/**
 * What changed: the sites (all, one, or those of some shards, as `site_id % shardCount` routes them) over a time
 * range (any time when absent).
 */
export interface ChangeScope {
  sites: { all: true } | { siteId: number } | { shards: number[]; shardCount: number };
  from?: Date;
  to?: Date;
}

/** The time a key's value was computed over: a chart's whole days, the stats key's last 24 h before `now`. */
export function keyTimeRange(key: AppKey, now: Date): { from: Date; to: Date } {
  if (key.kind === 'stats') return { from: new Date(now.getTime() - DAY_MS), to: now };
  return { from: new Date(`${key.startDate}T00:00:00Z`), to: new Date(Date.parse(`${key.endDate}T00:00:00Z`) + DAY_MS) };
}

function siteInScope(siteId: number, sites: ChangeScope['sites']): boolean {
  if ('all' in sites) return true;
  if ('siteId' in sites) return sites.siteId === siteId;
  return sites.shards.includes(siteId % sites.shardCount);
}

/** Whether a key's value may be wrong after the change: its site is in scope and its time overlaps the range. */
export function overlaps(key: AppKey, scope: ChangeScope, now: Date): boolean {
  if (!siteInScope(key.siteId, scope.sites)) return false;
  if (!scope.from || !scope.to) return true;
  const range = keyTimeRange(key, now);
  return range.from < scope.to && scope.from < range.to;
}

/** Any of several scopes (one per shard of a run, say). */
export function overlapsAny(key: AppKey, scopes: readonly ChangeScope[], now: Date): boolean {
  return scopes.some((scope) => overlaps(key, scope, now));
}

const STRATA_CHART_KEY = /^(?:site:(\d{1,10})|top:\d{1,3}|cluster):(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z):(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)$/;

/** The SCAN pattern of Strata's own cached charts (src/main/traffic/chart-cache.ts). */
export const STRATA_CHART_PATTERN = `${CHART_CACHE_PREFIX}*`;

/**
 * Whether one of Strata's own cached charts may be wrong after the change: a site's chart as an application key
 * is; a top-sites or cluster chart whenever its range overlaps (it sums every site). A key it cannot read is stale.
 */
export function strataChartStale(key: string, scopes: readonly ChangeScope[]): boolean {
  const match = STRATA_CHART_KEY.exec(key.slice(CHART_CACHE_PREFIX.length));
  if (!key.startsWith(CHART_CACHE_PREFIX) || !match) return true;
  const [, site, from, to] = match as unknown as [string, string | undefined, string, string];
  const range = { from: new Date(from), to: new Date(to) };
  return scopes.some((scope) => {
    if (site !== undefined && !siteInScope(Number(site), scope.sites)) return false;
    return !scope.from || !scope.to || (range.from < scope.to && scope.from < range.to);
  });
}

/** The MATCH patterns that find every key the scopes can touch: one site's when every scope is that site. */
export function scopePatterns(patterns: AppKeyPatterns, scopes: readonly ChangeScope[]): string[] {
  const sites = new Set(scopes.map((scope) => ('siteId' in scope.sites ? scope.sites.siteId : undefined)));
  const [only] = sites;
  return sites.size === 1 && only !== undefined ? matchPatterns(patterns, only) : matchPatterns(patterns);
}

/** `site 42 2026-11-01 – 2026-11-02`, `shards 0,1 …`, `all sites`, for logs and results. */
export function describeScope(scope: ChangeScope): string {
  const sites = 'all' in scope.sites ? 'all sites' : 'siteId' in scope.sites ? `site ${scope.sites.siteId}` : `the sites of shard${scope.sites.shards.length === 1 ? '' : 's'} ${scope.sites.shards.join(',')}`;
  return scope.from && scope.to ? `${sites} from ${scope.from.toISOString()} to ${scope.to.toISOString()}` : sites;
}

/** Merges per-shard ranges into one scope per shard: [earliest start, latest end). */
function perShard(ranges: Iterable<{ shard: number; from: Date; to: Date }>, shardCount: number): ChangeScope[] {
  const merged = new Map<number, { from: Date; to: Date }>();
  for (const range of ranges) {
    const known = merged.get(range.shard);
    merged.set(range.shard, known ? { from: range.from < known.from ? range.from : known.from, to: range.to > known.to ? range.to : known.to } : { from: range.from, to: range.to });
  }
  return [...merged.entries()].sort(([a], [b]) => a - b).map(([shard, range]) => ({ sites: { shards: [shard], shardCount }, ...range }));
}

/**
 * The windows a rollup run rewrote that were already rolled up (before the shard's watermark when the run began:
 * late-data re-rolls, a ranged re-run), or every written window of a backfill. A scheduled or catch-up re-roll
 * counts only where the window's page views changed: the trailing re-roll of every hourly run re-writes the last
 * hours unchanged, and deleting every site's current charts each hour would empty the application's cache.
 */
export function rewrittenByRollup(report: RollupReport, shardCount: number): ChangeScope[] {
  const scheduled = report.trigger === 'schedule' || report.trigger === 'catch-up';
  const ranges = report.shards.flatMap((shard) =>
    shard.windows
      .filter((window) => window.outcome === 'ok' || window.outcome === 'fenced')
      .filter((window) => report.trigger === 'backfill' || (shard.watermarkBefore !== null && window.windowStart < shard.watermarkBefore))
      .filter((window) => !scheduled || window.pageViewsChanged !== false)
      .map((window) => ({ shard: shard.shard, from: new Date(window.windowStart), to: new Date(window.windowEnd) })),
  );
  return perShard(ranges, shardCount);
}

/**
 * The windows a reconciliation re-rolled for late rows, per shard. Their cascade (the day and month above) only
 * re-adds the same page views, and a chart over those coarser rows spans the changed window anyway.
 */
export function rewrittenByReconcile(report: ReconcileReport, shardCount: number): ChangeScope[] {
  if (report.dryRun) return [];
  const ranges = report.shards.flatMap((shard) =>
    shard.levels.flatMap((level) =>
      level.windows.filter((window) => window.action === 're-rolled' && window.finding !== 'cascade').map((window) => ({ shard: shard.shard, from: new Date(window.windowStart), to: new Date(window.windowEnd) })),
    ),
  );
  return perShard(ranges, shardCount);
}

/**
 * The windows a backfill finished at its own level, per shard they ran on. Cascade windows above only re-add the
 * same rows (a chart over them spans the changed window anyway), so they do not widen the range to whole months.
 */
export function rewrittenByBackfill(
  windows: ReadonlyArray<{ level: string; windowStart: string; windowEnd: string; outcome: string; shards: readonly number[] }>,
  level: string,
  shardCount: number,
): ChangeScope[] {
  return perShard(
    windows
      .filter((window) => window.level === level && window.outcome === 'ok')
      .flatMap((window) => window.shards.map((shard) => ({ shard, from: new Date(window.windowStart), to: new Date(window.windowEnd) }))),
    shardCount,
  );
}

/** Splits keys into batches of at most `size`. */
export function batches<T>(items: readonly T[], size = DELETE_BATCH): T[][] {
  const out: T[][] = [];
  for (let index = 0; index < items.length; index += size) out.push(items.slice(index, index + size));
  return out;
}

/** A TTL reply as seconds left: -1 (no expiry) and -2 (gone) are null. */
export function ttlSeconds(reply: number): number | null {
  return reply >= 0 ? reply : null;
}
