import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import {
  cacheInvalidateRequestSchema,
  cacheKeysRequestSchema,
  type CacheInvalidateRequest,
  type CacheInvalidationLog,
  type CacheInvalidationLogEntry,
  type CacheInvalidationResult,
  type CacheKey,
  type CacheKeysReport,
  type CacheKeysRequest,
  type CacheStats,
  type InvalidationRunKind,
} from '../../shared/cache';
import { ErrorCode, StrataError } from '../../shared/errors';
import type { CacheProfile } from '../../shared/profile';
import { toFailure } from '../../shared/result';
import { withRedisDeadline, type ClusterConnections } from '../cluster/connections';
import { osUser } from '../identity';
import { WorkTracker } from '../lifecycle/work-tracker';
import type { ScopedLogger } from '../log';
import { parseRedisInfo } from '../monitor/planner';
import type { ClusterState } from '../state';
import {
  batches,
  compilePatterns,
  describeScope,
  MAX_SCANNED_KEYS,
  matchPatterns,
  overlapsAny,
  parseAppKey,
  SAMPLE_KEYS,
  SCAN_COUNT,
  STRATA_CHART_PATTERN,
  strataChartStale,
  scopePatterns,
  ttlSeconds,
  type AppKey,
  type AppKeyPatterns,
  type ChangeScope,
} from './planner';

/** One run that rewrote history, whose overlapping keys are deleted afterwards. */
export interface RewriteRun {
  kind: Exclude<InvalidationRunKind, 'manual'>;
  runId: string;
}

/** What an automatic invalidation did: how many keys went, or why none did. */
export interface AutoInvalidation {
  keysDeleted: number | null;
  outcome: 'invalidated' | 'not-invalidated' | 'nothing-changed';
  note?: string;
}

/** The application's chart cache in Redis: figures, keys, and invalidation by site, range or after a run. */
export interface CacheService {
  /** Hit ratio, memory and evictions from INFO, keys per kind and site, and Strata's recent invalidations. */
  stats(): Promise<CacheStats>;
  /** The application's keys (of one site), with TTL and size; bounded by the request's limit. */
  keys(request?: CacheKeysRequest): Promise<CacheKeysReport>;
  /** Deletes (or, dry, counts) the keys of a site, of a site's range, or all chart and stats keys; audited. */
  invalidate(request: CacheInvalidateRequest): Promise<CacheInvalidationResult>;
  /** Strata's invalidations, newest first. */
  invalidations(limit?: number): Promise<CacheInvalidationLog>;
  /**
   * After a run rewrote windows: deletes the keys overlapping them and records the count (or "not invalidated:
   * Redis unreachable") in strata_cache_invalidations and the audit log. Never rejects: the run stands either way.
   */
  afterRewrite(run: RewriteRun, scopes: readonly ChangeScope[]): Promise<AutoInvalidation>;
  dispose(): Promise<void>;
}

export interface CacheServiceOptions {
  clock?: () => Date;
  host?: string;
  actor?: string;
  /** Deadline of each Redis command. */
  commandTimeoutMs?: number;
  /** Strata's own chart cache: told when its keys were deleted, so no copy of them in memory outlives them. */
  strataCharts?: { sync(): Promise<void> };
}

interface LogRow {
  id: number;
  at: Date;
  run_kind: string;
  run_id: string | null;
  shards: string | null;
  site_id: number | null;
  range_from: Date | null;
  range_to: Date | null;
  keys_deleted: number | null;
  outcome: string;
  note: string | null;
}

const RECORD_DEADLINE_MS = 10_000;
const INSERT_SQL = `INSERT INTO strata_cache_invalidations (at, run_kind, run_id, shards, site_id, range_from, range_to, keys_deleted, outcome, note, host)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;


/** A scope as stored: the shards or the site, and the range covering every scope of the run. */
function summarise(scopes: readonly ChangeScope[]): { shards: number[] | null; siteId: number | null; from: Date | null; to: Date | null } {
  const shards = new Set<number>();
  let siteId: number | null = null;
  let from: Date | null = null;
  let to: Date | null = null;
  for (const scope of scopes) {
    if ('shards' in scope.sites) for (const shard of scope.sites.shards) shards.add(shard);
    if ('siteId' in scope.sites) siteId = scope.sites.siteId;
    if (scope.from && (!from || scope.from < from)) from = scope.from;
    if (scope.to && (!to || scope.to > to)) to = scope.to;
  }
  return { shards: shards.size ? [...shards].sort((a, b) => a - b) : null, siteId, from, to };
}

export class ClusterCacheService implements CacheService {
  private readonly patterns: AppKeyPatterns;
  private readonly clock: () => Date;
  private readonly host: string;
  private readonly actor: string;
  private readonly timeoutMs: number;
  private readonly strataCharts: { sync(): Promise<void> } | undefined;
  private readonly work = new WorkTracker('cache');

  constructor(
    private readonly connections: ClusterConnections,
    private readonly state: Pick<ClusterState, 'control' | 'audit'>,
    profile: CacheProfile | undefined,
    private readonly log: ScopedLogger,
    options: CacheServiceOptions = {},
  ) {
    this.patterns = compilePatterns(profile);
    this.clock = options.clock ?? (() => new Date());
    this.host = (options.host ?? hostname()).slice(0, 255);
    this.actor = `${options.actor ?? osUser()}@${this.host}`.slice(0, 255);
    this.timeoutMs = options.commandTimeoutMs ?? 5000;
    this.strataCharts = options.strataCharts;
  }

  stats(): Promise<CacheStats> {
    return this.work.track(async () => {
      const at = this.clock();
      const client = await this.client();
      const info = parseRedisInfo(await this.command('INFO', () => client.info()));
      const number = (name: string) => Number(info.get(name) ?? 0) || 0;
      const keysByKind = { stats: 0, chart: 0 };
      const perSite = new Map<number, number>();
      const { truncated } = await this.scanKeys(client, matchPatterns(this.patterns), (_key, parsed) => {
        keysByKind[parsed.kind] += 1;
        perSite.set(parsed.siteId, (perSite.get(parsed.siteId) ?? 0) + 1);
      });
      const hits = number('keyspace_hits');
      const misses = number('keyspace_misses');
      const maxMemory = number('maxmemory');
      return {
        at: at.toISOString(),
        redis: this.connections.redisLabel(),
        prefix: this.patterns.prefix,
        hits,
        misses,
        hitRatio: hits + misses > 0 ? hits / (hits + misses) : null,
        usedMemoryBytes: number('used_memory'),
        maxMemoryBytes: maxMemory > 0 ? maxMemory : null,
        evictedKeys: number('evicted_keys'),
        expiredKeys: number('expired_keys'),
        keysByKind,
        sites: perSite.size,
        topSites: [...perSite.entries()]
          .sort((a, b) => b[1] - a[1] || a[0] - b[0])
          .slice(0, 20)
          .map(([siteId, keys]) => ({ siteId, keys })),
        truncated,
        invalidations: await this.invalidations(10),
      };
    });
  }

  keys(input: CacheKeysRequest = {}): Promise<CacheKeysReport> {
    return this.work.track(async () => {
      const parsed = cacheKeysRequestSchema.safeParse(input);
      if (!parsed.success) throw new StrataError(ErrorCode.CacheInvalid, `invalid keys request: ${parsed.error.issues[0]?.message ?? 'unknown field'}`);
      const { siteId, limit } = parsed.data;
      const client = await this.client();
      const found: Array<{ key: string; parsed: AppKey }> = [];
      let matched = 0;
      await this.scanKeys(client, matchPatterns(this.patterns, siteId), (key, appKey) => {
        if (siteId !== undefined && appKey.siteId !== siteId) return;
        matched += 1;
        // Only the listed keys are held: a keyspace of millions is counted, not kept.
        if (found.length < limit) found.push({ key, parsed: appKey });
      });
      const listed = found.sort((a, b) => a.parsed.siteId - b.parsed.siteId || a.key.localeCompare(b.key));
      const keys: CacheKey[] = [];
      for (const batch of batches(listed)) {
        const pipeline = client.pipeline();
        for (const { key } of batch) pipeline.ttl(key).memory('USAGE', key);
        const replies = (await this.command('TTL/MEMORY USAGE', () => pipeline.exec())) ?? [];
        batch.forEach(({ key, parsed: appKey }, index) => {
          const [ttlError, ttl] = replies[index * 2] ?? [];
          const [sizeError, size] = replies[index * 2 + 1] ?? [];
          keys.push({
            key,
            kind: appKey.kind,
            siteId: appKey.siteId,
            period: appKey.kind === 'chart' ? appKey.period : null,
            startDate: appKey.kind === 'chart' ? appKey.startDate : null,
            endDate: appKey.kind === 'chart' ? appKey.endDate : null,
            ttlSeconds: ttlError ? null : ttlSeconds(Number(ttl)),
            sizeBytes: sizeError || size === null || size === undefined ? null : Number(size),
          });
        });
      }
      return { prefix: this.patterns.prefix, keys, matched, truncated: matched > listed.length };
    });
  }

  invalidate(input: CacheInvalidateRequest): Promise<CacheInvalidationResult> {
    return this.work.track(async () => {
      const parsed = cacheInvalidateRequestSchema.safeParse(input);
      if (!parsed.success) throw new StrataError(ErrorCode.CacheInvalid, `invalid invalidation: ${parsed.error.issues[0]?.message ?? 'unknown field'}`);
      const request = parsed.data;
      const from = request.from ? new Date(request.from) : undefined;
      const to = request.to ? new Date(request.to) : undefined;
      if (from && to && !(from < to)) throw new StrataError(ErrorCode.CacheInvalid, `the range must end after it starts: ${from.toISOString()} – ${to.toISOString()}`);
      const scope: ChangeScope = { sites: request.all ? { all: true } : { siteId: request.siteId! }, from, to };
      const at = this.clock();
      const outcome = await this.deleteOverlapping([scope], request.dryRun, at);
      const result: CacheInvalidationResult = { at: at.toISOString(), dryRun: request.dryRun, scope: describeScope(scope), ...outcome };
      if (!request.dryRun) {
        this.log.info(`invalidated ${result.deleted} of the application's keys (${result.scope})`);
        const stored = summarise([scope]);
        await this.record({ at, runKind: 'manual', runId: null, ...stored, keysDeleted: result.deleted, outcome: 'invalidated', note: null });
        await this.state.audit.writeBestEffort({
          at,
          actor: this.actor,
          host: this.host,
          action: 'cache.invalidate',
          target: result.scope,
          detail: JSON.stringify({ matched: result.matched, deleted: result.deleted, prefix: this.patterns.prefix }),
        });
      }
      return result;
    });
  }

  invalidations(limit = 20): Promise<CacheInvalidationLog> {
    return this.work.track(async () => {
      try {
        const rows = await this.state.control.query<LogRow[]>(
          `SELECT id, at, run_kind, run_id, shards, site_id, range_from, range_to, keys_deleted, outcome, note
           FROM strata_cache_invalidations ORDER BY at DESC, id DESC LIMIT ?`,
          [Math.max(1, Math.min(200, Math.floor(limit)))],
        );
        return { entries: rows.map((row) => this.toEntry(row)) };
      } catch (error) {
        const { code, message } = toFailure(error);
        return { entries: [], problem: { code, message } };
      }
    });
  }

  async afterRewrite(run: RewriteRun, scopes: readonly ChangeScope[]): Promise<AutoInvalidation> {
    if (scopes.length === 0) return { keysDeleted: 0, outcome: 'nothing-changed' };
    if (this.work.stopping) return { keysDeleted: null, outcome: 'not-invalidated', note: 'not invalidated: Strata was shutting down' };
    return this.work.track(async () => {
      const at = this.clock();
      const stored = summarise(scopes);
      const what = `${run.kind} ${run.runId}`;
      let result: AutoInvalidation;
      try {
        const { deleted } = await this.deleteOverlapping(scopes, false, at);
        // Strata's own Traffic charts over the changed history go too, or the console would show the old figures for up to an hour.
        const own = await this.deleteStaleStrataCharts(scopes);
        result = { keysDeleted: deleted, outcome: 'invalidated' };
        this.log.info(`${what} rewrote ${scopes.map(describeScope).join('; ')}: deleted ${deleted} of the application's cached charts and ${own} of Strata's`);
      } catch (error) {
        const reason = error instanceof StrataError ? error.message : String(error);
        result = { keysDeleted: null, outcome: 'not-invalidated', note: `not invalidated: Redis unreachable (${reason})`.slice(0, 1024) };
        this.log.warn(`${what}: the application's cached charts were ${result.note}`);
      }
      // A rollup re-run that found nothing cached (the hourly trailing re-roll, mostly) leaves no trace.
      if (run.kind === 'rollup' && result.outcome === 'invalidated' && result.keysDeleted === 0) return result;
      try {
        await this.record({ at, runKind: run.kind, runId: run.runId, ...stored, keysDeleted: result.keysDeleted, outcome: result.outcome as 'invalidated' | 'not-invalidated', note: result.note ?? null });
      } catch (error) {
        this.log.warn(`could not record the cache invalidation after ${what}`, error);
      }
      // The audit log says what changed: a run that deleted nothing is only in the invalidation log.
      if (result.outcome === 'invalidated' && result.keysDeleted === 0) return result;
      await this.state.audit.writeBestEffort({
        at,
        actor: this.actor,
        host: this.host,
        action: 'cache.invalidate',
        target: what,
        detail: JSON.stringify({ scopes: scopes.map(describeScope), keysDeleted: result.keysDeleted, outcome: result.outcome, ...(result.note ? { note: result.note } : {}) }),
      });
      return result;
    });
  }

  dispose(): Promise<void> {
    return this.work.dispose();
  }

  /** Scans every pattern and deletes (unless dry) the keys overlapping any scope, UNLINK in bounded batches. */
  private async deleteOverlapping(scopes: readonly ChangeScope[], dryRun: boolean, now: Date): Promise<Omit<CacheInvalidationResult, 'at' | 'dryRun' | 'scope'>> {
    const client = await this.client();
    const pending: string[] = [];
    const sample: string[] = [];
    let matched = 0;
    let deleted = 0;
    const flush = async () => {
      const keys = pending.splice(0);
      if (keys.length) deleted += Number(await this.command('UNLINK', () => client.unlink(...keys)));
    };
    const { scanned } = await this.scanKeys(client, scopePatterns(this.patterns, scopes), async (key, parsed) => {
      if (!overlapsAny(parsed, scopes, now)) return;
      matched += 1;
      if (sample.length < SAMPLE_KEYS) sample.push(key);
      if (dryRun) return;
      pending.push(key);
      if (pending.length >= SCAN_COUNT) await flush();
    });
    if (!dryRun) await flush();
    // SCAN may return a key twice while Redis shrinks its table, which deleting makes it do: UNLINK's own count of
    // what it removed is the number of keys matched, not the scan's (a rerun after a killed one counted 17 too many).
    return { matched: dryRun ? matched : deleted, deleted, scanned, sample };
  }

  private async deleteStaleStrataCharts(scopes: readonly ChangeScope[]): Promise<number> {
    const client = await this.client();
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.command('SCAN', () => client.scan(cursor, 'MATCH', STRATA_CHART_PATTERN, 'COUNT', SCAN_COUNT));
      cursor = next;
      const stale = keys.filter((key) => strataChartStale(key, scopes));
      if (stale.length > 0) deleted += Number(await this.command('UNLINK', () => client.unlink(...stale)));
    } while (cursor !== '0');
    if (deleted > 0) await this.strataCharts?.sync();
    return deleted;
  }

  /** SCAN … MATCH … COUNT in bounded batches (never KEYS), handing each application key to `visit`. */
  private async scanKeys(client: Redis, patterns: readonly string[], visit: (key: string, parsed: AppKey) => void | Promise<void>): Promise<{ scanned: number; truncated: boolean }> {
    let scanned = 0;
    for (const pattern of patterns) {
      let cursor = '0';
      do {
        const [next, keys] = await this.command('SCAN', () => client.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT));
        cursor = next;
        // SCAN returns a key twice only while Redis resizes its table; remembering every key to catch that would
        // hold the whole keyspace in memory, so only a batch's own repeats are dropped.
        for (const key of new Set(keys)) {
          scanned += 1;
          const parsed = parseAppKey(key, this.patterns);
          if (parsed) await visit(key, parsed);
        }
        if (scanned >= MAX_SCANNED_KEYS) return { scanned, truncated: true };
      } while (cursor !== '0');
    }
    return { scanned, truncated: false };
  }

  private async client(): Promise<Redis> {
    try {
      return await withRedisDeadline(this.connections.redisClient(), this.timeoutMs, `Redis ${this.connections.redisLabel()}`);
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  private async command<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await withRedisDeadline(run(), this.timeoutMs, `Redis ${this.connections.redisLabel()} ${what}`);
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  private unavailable(error: unknown): StrataError {
    if (error instanceof StrataError && error.code === ErrorCode.CacheUnavailable) return error;
    const described = error instanceof StrataError && error.code === ErrorCode.RedisUnreachable && /no answer within/.test(error.message) ? error : this.connections.describeRedisError(error);
    return new StrataError(ErrorCode.CacheUnavailable, `the application's cache is unreachable: ${described.message}`, { cause: error });
  }

  private async record(entry: {
    at: Date;
    runKind: InvalidationRunKind;
    runId: string | null;
    shards: number[] | null;
    siteId: number | null;
    from: Date | null;
    to: Date | null;
    keysDeleted: number | null;
    outcome: 'invalidated' | 'not-invalidated';
    note: string | null;
  }): Promise<void> {
    await this.state.control.query(
      INSERT_SQL,
      [entry.at, entry.runKind, entry.runId?.slice(0, 64) ?? null, entry.shards?.join(',').slice(0, 1024) ?? null, entry.siteId, entry.from, entry.to, entry.keysDeleted, entry.outcome, entry.note, this.host],
      // A row of a few bytes: a control shard that takes longer is not answering, and the run it follows waits on it.
      { kind: 'write', timeoutMs: RECORD_DEADLINE_MS },
    );
  }

  private toEntry(row: LogRow): CacheInvalidationLogEntry {
    const kinds: readonly string[] = ['backfill', 'reconcile', 'rollup', 'manual'];
    return {
      id: Number(row.id),
      at: row.at.toISOString(),
      runKind: (kinds.includes(row.run_kind) ? row.run_kind : 'manual') as InvalidationRunKind,
      runId: row.run_id,
      shards: row.shards ? row.shards.split(',').map(Number) : null,
      siteId: row.site_id === null ? null : Number(row.site_id),
      from: row.range_from ? row.range_from.toISOString() : null,
      to: row.range_to ? row.range_to.toISOString() : null,
      keysDeleted: row.keys_deleted === null ? null : Number(row.keys_deleted),
      outcome: row.outcome === 'not-invalidated' ? 'not-invalidated' : 'invalidated',
      note: row.note,
    };
  }
}
