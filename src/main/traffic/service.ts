import type { Redis } from 'ioredis';
import { ErrorCode, StrataError } from '../../shared/errors';
import type { UnreadShard } from '../../shared/problem';
import { DEFAULT_RETENTION, type RetentionPolicy } from '../../shared/rollup';
import {
  describeScope,
  trafficRequestSchema,
  trafficSitesRequestSchema,
  type TrafficAnswer,
  type TrafficCacheState,
  type TrafficRequest,
  type TrafficSite,
  type TrafficSites,
  type TrafficSitesRequest,
} from '../../shared/traffic';
import { describeShardError, type ClusterConnections, type ShardHandle } from '../cluster/connections';
import { asProblem } from '../lifecycle/problem';
import { WorkTracker } from '../lifecycle/work-tracker';
import type { ScopedLogger } from '../log';
import { readWatermarks } from '../rollup/watermark';
import { periodStart, shiftPeriod } from '../schema/partitions';
import { SketchAccumulator } from '../sketch/hll';
import { ChartCache, type ChartCacheOptions } from './chart-cache';
import {
  busiestSitesSql,
  CHART_GROUP_CONCAT_BYTES,
  chartCacheKey,
  chartCacheTtlSeconds,
  chartSql,
  chooseTable,
  foldRows,
  isCutSketch,
  parseRange,
  planShard,
  provisionalNote,
  rawHashesSql,
  seriesUntil,
  topSitesSql,
  visitorsMeaning,
  type ChartRow,
  type ShardChartPlan,
  type ShardWatermarks,
  type SiteFilter,
  type TableChoice,
} from './planner';

/** Strata's chart cache over the cluster's Redis, its in-memory copies tracked on a connection of their own. */
export function createChartCache(connections: ClusterConnections, log: ScopedLogger, options: ChartCacheOptions = {}): ChartCache {
  return new ChartCache((): Promise<Redis> => connections.redisClient(), log, { ...options, openTracking: () => connections.openRedisConnection() });
}

/** Traffic charts over the rollup tables, with Strata's own chart cache in Redis. */
export interface TrafficService {
  /** A chart of one site, the top sites or the cluster over [from, to), from the cache when it holds one. */
  chart(request: TrafficRequest): Promise<TrafficAnswer>;
  /** Sites for the console's picker: those whose id contains `search`, else the busiest of the last 24 hours. */
  sites(request?: TrafficSitesRequest): Promise<TrafficSites>;
  dispose(): Promise<void>;
}

export interface TrafficServiceOptions {
  clock?: () => Date;
  /** The stored retention policy (which tables still hold a range); read at most once a minute. */
  retentionSource?: () => Promise<RetentionPolicy>;
  cache?: ChartCacheOptions;
  /** The chart cache shared with the cache service (which deletes stale charts); else the service makes its own. */
  chartCache?: ChartCache;
}

const RETENTION_CACHE_MS = 60_000;

interface PlannedShard {
  handle: ShardHandle;
  plan: ShardChartPlan;
  /** Set when the plan was made from the watermarks last seen: the fresh read that must confirm them. */
  confirm?: { known: ShardWatermarks; fresh: Promise<ShardWatermarks> };
}

function sameWatermarks(a: ShardWatermarks, b: ShardWatermarks): boolean {
  return (['hourly', 'daily', 'monthly'] as const).every((level) => (a[level]?.getTime() ?? null) === (b[level]?.getTime() ?? null));
}

interface ShardRead {
  handle: ShardHandle;
  rows: ChartRow[];
  plan: ShardChartPlan;
}

export class ClusterTrafficService implements TrafficService {
  private readonly clock: () => Date;
  private readonly work = new WorkTracker('traffic');
  private readonly cache: ChartCache;
  private readonly ownsCache: boolean;
  private readonly retentionSource: () => Promise<RetentionPolicy>;
  private retention: { policy: RetentionPolicy; at: number } | undefined;
  /** Per shard, the server thread ids of pooled connections whose GROUP_CONCAT limit was raised for raw sketches. */
  private readonly concatReady = new Map<number, Set<number>>();
  /** Per shard, the watermarks last read, which the next chart is planned with while they are read again. */
  private readonly knownWatermarks = new Map<number, ShardWatermarks>();

  constructor(
    private readonly connections: ClusterConnections,
    private readonly log: ScopedLogger,
    options: TrafficServiceOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.retentionSource = options.retentionSource ?? (async () => ({ ...DEFAULT_RETENTION }));
    this.ownsCache = options.chartCache === undefined;
    this.cache = options.chartCache ?? createChartCache(connections, log, options.cache);
  }

  chart(request: TrafficRequest): Promise<TrafficAnswer> {
    return this.work.track(async () => {
      const parsed = trafficRequestSchema.safeParse(request);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new StrataError(ErrorCode.TrafficInvalid, `invalid chart request: ${issue ? `${issue.path.join('.') || 'request'}: ${issue.message}` : 'unknown field'}`);
      }
      const { scope, cache: useCache = true } = parsed.data;
      const now = this.clock();
      const range = parseRange(parsed.data.from, parsed.data.to, now);
      const key = chartCacheKey(scope, range.from, range.to);
      let uncachedReason: string | undefined = useCache ? undefined : 'not asked to use the cache';
      if (useCache) {
        const cached = await this.cache.read(key, now);
        if (cached.kind === 'hit') {
          const ttlSeconds = chartCacheTtlSeconds(range.from, range.to);
          return { ...cached.answer, cache: { state: 'hit', hit: true, ageSeconds: cached.ageSeconds, ttlSeconds, from: cached.from } };
        }
        if (cached.kind === 'down') uncachedReason = cached.reason;
      }
      const answer = await this.compute(parsed.data.scope, range, parsed.data, now);
      if (answer.partial) uncachedReason ??= `a partial answer is not cached (${answer.shards.failed.map((shard) => shard.shardName).join(', ')} did not answer)`;
      let cacheState: TrafficCacheState;
      if (uncachedReason) {
        cacheState = { state: 'uncached', hit: false, reason: uncachedReason };
      } else {
        const ttlSeconds = chartCacheTtlSeconds(range.from, range.to);
        const refused = await this.cache.write(key, { ...answer, cache: { state: 'miss', hit: false, ageSeconds: 0, ttlSeconds } }, ttlSeconds, now);
        cacheState = refused ? { state: 'uncached', hit: false, reason: refused } : { state: 'miss', hit: false, ageSeconds: 0, ttlSeconds };
      }
      return { ...answer, cache: cacheState };
    });
  }

  sites(request: TrafficSitesRequest = {}): Promise<TrafficSites> {
    return this.work.track(async () => {
      const parsed = trafficSitesRequestSchema.safeParse(request);
      if (!parsed.success) throw new StrataError(ErrorCode.TrafficInvalid, `invalid site search: ${parsed.error.issues[0]?.message ?? 'unknown field'}`);
      const { search = '', limit = 20 } = parsed.data;
      const now = this.clock();
      const since = new Date(periodStart(now, 'hour').getTime() - 23 * 3_600_000);
      const failed: UnreadShard[] = [];
      const perShard = await Promise.all(
        this.connections.shards.map(async (handle): Promise<TrafficSite[]> => {
          try {
            const watermarks = await this.watermarksOf(handle);
            const cut = new Date(Math.max(since.getTime(), Math.min(watermarks.hourly?.getTime() ?? since.getTime(), now.getTime())));
            const params: unknown[] = [since, cut, cut, ...(search ? [`%${search}%`] : []), limit];
            const rows = await this.connections.query<Array<{ site_id: number | string; page_views: number | string }>>(handle.index, busiestSitesSql(search !== ''), params);
            return rows.map((row) => ({ siteId: Number(row.site_id), shard: handle.index, pageViews24h: Number(row.page_views) }));
          } catch (error) {
            failed.push({ shard: handle.index, shardName: handle.label, problem: asProblem(describeShardError(error, handle)) });
            return [];
          }
        }),
      );
      let sites = perShard.flat();
      // A site id typed in full is offered even before it had traffic in the last 24 hours.
      if (search && !sites.some((site) => String(site.siteId) === search) && Number(search) <= 4_294_967_295) {
        sites.push({ siteId: Number(search), shard: this.connections.shardOfSite(Number(search)).index, pageViews24h: 0 });
      }
      sites = sites.sort((a, b) => b.pageViews24h - a.pageViews24h || a.siteId - b.siteId).slice(0, limit);
      return { sites, failed: failed.sort((a, b) => a.shard - b.shard) };
    });
  }

  async dispose(): Promise<void> {
    await this.work.dispose();
    if (this.ownsCache) await this.cache.dispose();
  }

  private async compute(scope: TrafficRequest['scope'], range: { from: Date; to: Date }, request: TrafficRequest, now: Date): Promise<Omit<TrafficAnswer, 'cache'>> {
    const choice = chooseTable(range.from, range.to, now, await this.retentionPolicy());
    const targets = scope.kind === 'site' ? [this.connections.shardOfSite(scope.siteId)] : [...this.connections.shards];
    const failed: UnreadShard[] = [];
    const fail = (handle: ShardHandle, error: unknown) => {
      failed.push({ shard: handle.index, shardName: handle.label, problem: asProblem(describeShardError(error, handle)) });
      return undefined;
    };
    // A site or cluster chart is read with the watermarks this process last saw while they are read again: one
    // round trip instead of two. Watermarks only move forward, so rows read by a plan whose watermarks the fresh
    // read confirms are what the fresh plan would have read; a shard whose watermarks moved is read again.
    const speculate = scope.kind !== 'top';
    const plans = await Promise.all(
      targets.map(async (handle): Promise<PlannedShard | undefined> => {
        const fresh = this.watermarksOf(handle);
        const known = speculate ? this.knownWatermarks.get(handle.index) : undefined;
        if (known) {
          fresh.catch(() => {});
          return { handle, plan: planShard(choice, known), confirm: { known, fresh } };
        }
        try {
          return { handle, plan: planShard(choice, await fresh) };
        } catch (error) {
          return fail(handle, error);
        }
      }),
    );
    const planned = plans.filter((entry): entry is PlannedShard => entry !== undefined);
    let filters = new Map<number, SiteFilter>(planned.map(({ handle }) => [handle.index, scope.kind === 'site' ? { kind: 'site', siteId: scope.siteId } : { kind: 'all' }]));
    let topOrder: Array<{ siteId: number; shard: number }> | undefined;
    if (scope.kind === 'top') {
      const candidates = await Promise.all(
        planned.map(async ({ handle, plan }) => {
          const statement = topSitesSql(plan, scope.limit);
          if (!statement) return [];
          try {
            const rows = await this.connections.query<Array<{ site_id: number | string; page_views: number | string }>>(handle.index, statement.sql, statement.params);
            return rows.map((row) => ({ siteId: Number(row.site_id), shard: handle.index, pageViews: Number(row.page_views) }));
          } catch (error) {
            fail(handle, error);
            return [];
          }
        }),
      );
      topOrder = candidates
        .flat()
        .sort((a, b) => b.pageViews - a.pageViews || a.siteId - b.siteId)
        .slice(0, scope.limit);
      filters = new Map();
      for (const site of topOrder) {
        const filter = filters.get(site.shard);
        if (filter?.kind === 'sites') filter.siteIds.push(site.siteId);
        else filters.set(site.shard, { kind: 'sites', siteIds: [site.siteId] });
      }
    }
    const reads = await Promise.all(
      planned.map(async ({ handle, plan, confirm }): Promise<ShardRead | undefined> => {
        if (failed.some((entry) => entry.shard === handle.index)) return undefined;
        const filter = filters.get(handle.index);
        try {
          let rows = filter ? await this.readShard(handle, plan, choice, filter) : [];
          if (confirm) {
            const watermarks = await confirm.fresh;
            if (!sameWatermarks(watermarks, confirm.known)) {
              plan = planShard(choice, watermarks);
              rows = filter ? await this.readShard(handle, plan, choice, filter) : [];
            }
          }
          return { handle, plan, rows };
        } catch (error) {
          return fail(handle, error);
        }
      }),
    );
    const answered = reads.filter((read): read is ShardRead => read !== undefined);
    if (answered.length === 0) {
      throw new StrataError(ErrorCode.TrafficUnavailable, `no shard answered the ${describeScope(scope)} chart: ${failed.map((entry) => `${entry.shardName}: ${entry.problem.message}`).join('; ')}`);
    }
    const until = seriesUntil(choice, now);
    const folded = foldRows(
      answered.flatMap((read) => read.rows),
      { granularity: choice.granularity, from: choice.from, until, provisionalFrom: answered.map((read) => read.plan.provisionalFrom) },
    );
    const note = provisionalNote(choice.level, answered.map((read) => ({ shardName: read.handle.label, from: read.plan.provisionalFrom })), until);
    return {
      scope,
      requested: { from: request.from, to: request.to },
      from: choice.from.toISOString(),
      to: choice.to.toISOString(),
      table: choice.table,
      period: choice.granularity,
      reason: choice.reason,
      ...(note ? { provisionalNote: note } : {}),
      series: folded.series,
      totals: folded.totals,
      visitorsMeaning: visitorsMeaning(scope),
      ...(topOrder
        ? {
            top: topOrder
              .filter((site) => answered.some((read) => read.handle.index === site.shard))
              .map((site) => ({ siteId: site.siteId, shard: site.shard, pageViews: folded.sites.get(site.siteId)?.pageViews ?? 0, visitors: folded.sites.get(site.siteId)?.visitors ?? 0 })),
          }
        : {}),
      shards: { answered: answered.map((read) => read.handle.index).sort((a, b) => a - b), failed: failed.sort((a, b) => a.shard - b.shard) },
      partial: failed.length > 0,
      computedAt: now.toISOString(),
    };
  }

  /** One shard's rows of the chart, in one statement (a session of its own when raw rows build sketches). */
  private async readShard(handle: ShardHandle, plan: ShardChartPlan, choice: TableChoice, filter: SiteFilter): Promise<ChartRow[]> {
    const statement = chartSql(plan, choice.granularity, filter);
    if (!statement) return [];
    const readsRaw = [...plan.segments, ...(plan.tiles ?? [])].some((part) => part.source === 'analytics_realtime');
    if (!readsRaw) return this.connections.query<ChartRow[]>(handle.index, statement.sql, statement.params);
    const session = await this.connections.session(handle.index);
    let healthy = true;
    try {
      // Set once per pooled connection and left: a longer GROUP_CONCAT limit changes nothing for other readers, and
      // the rollup sets its own on every session it takes. A connection the set forgets only costs cut sketches re-read.
      const ready = this.concatReady.get(handle.index) ?? new Set<number>();
      this.concatReady.set(handle.index, ready);
      if (!ready.has(session.threadId)) {
        await session.query(`SET SESSION group_concat_max_len = ${CHART_GROUP_CONCAT_BYTES}`);
        ready.add(session.threadId);
      }
      const rows = await session.query<ChartRow[]>(statement.sql, statement.params);
      for (const row of rows) {
        if (!isCutSketch(row)) continue;
        const start = new Date(Number(row.t) * 1000);
        let from: Date;
        let to: Date;
        if (Number(row.part ?? 0) === 1) {
          const tile = plan.tiles!.find((candidate) => candidate.source === 'analytics_realtime' && candidate.from.getTime() === start.getTime())!;
          ({ from, to } = tile);
        } else {
          const raw = plan.segments.find((segment) => segment.source === 'analytics_realtime')!;
          const end = shiftPeriod(start, choice.granularity, 1);
          from = start > raw.from ? start : raw.from;
          to = end < raw.to ? end : raw.to;
        }
        const hashes = await session.query<Array<{ h: number | string }>>(rawHashesSql(), [Number(row.site_id), from, to]);
        const accumulator = new SketchAccumulator();
        for (const { h } of hashes) accumulator.addHash(Number(h));
        row.sketch = accumulator.encode();
      }
      return rows;
    } catch (error) {
      healthy = false;
      throw error;
    } finally {
      if (healthy) session.release();
      else session.destroy();
    }
  }

  private async watermarksOf(handle: ShardHandle): Promise<ShardWatermarks> {
    const stored = await readWatermarks((sql, params) => this.connections.query(handle.index, sql, params));
    const of = (level: string) => stored.find((row) => row.level === level)?.watermark ?? null;
    const watermarks = { hourly: of('hourly'), daily: of('daily'), monthly: of('monthly') };
    this.knownWatermarks.set(handle.index, watermarks);
    return watermarks;
  }

  private async retentionPolicy(): Promise<RetentionPolicy> {
    const at = Date.now();
    if (this.retention && at - this.retention.at < RETENTION_CACHE_MS) return this.retention.policy;
    try {
      const policy = await this.retentionSource();
      this.retention = { policy, at };
      return policy;
    } catch (error) {
      // Shard 0 away: the defaults decide the table, as the application's do; the chart itself still reads every shard.
      this.log.warn('retention policy unavailable for chart planning; using the defaults', { error: asProblem(error).message });
      return this.retention?.policy ?? { ...DEFAULT_RETENTION };
    }
  }
}

