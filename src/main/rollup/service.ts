import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ErrorCode, errorCodeName, StrataError } from '../../shared/errors';
import {
  ROLLUP_LEVELS,
  rollupLevelSchema,
  type RollupLevel,
  type RollupPlan,
  type RollupReport,
  type RollupRunHistory,
  type RunRecord,
  type RunTrigger,
  type ShardRollupReport,
  type WatermarkEffect,
  type WatermarkRow,
  type WindowResult,
} from '../../shared/rollup';
import { describeShardError, type ClusterConnections, type ShardHandle, type ShardSession } from '../cluster/connections';
import { partitionRowEstimates, readTablePartitions } from '../cluster/partition-metadata';
import { Emitter } from '../lifecycle/emitter';
import { asProblem } from '../lifecycle/problem';
import { WorkTracker } from '../lifecycle/work-tracker';
import type { ScopedLogger } from '../log';
import { partitionName, PARTITION_SCHEMES } from '../schema/partitions';
import { HEADER_BYTES, SketchAccumulator, SPARSE_ENTRY_BYTES, SPARSE_LIMIT } from '../sketch/hll';
import {
  advancesWatermark,
  DEFAULT_ROLLUP_TUNING,
  deleteWindowSql,
  changedLookback,
  changedWindows,
  extendThroughUnchanged,
  hourlyInsertSql,
  insertMergedSql,
  LEVELS,
  mergeSourcePageSql,
  oversizedSketchesSql,
  planDue,
  planRange,
  readyUntil,
  sessionSetupSql,
  shortSource,
  siteHashesSql,
  siteRegistersSql,
  updateSketchesSql,
  windowPageViewsSql,
  windowTotalsSql,
  type LevelState,
  type RollupTuning,
  type RollupWindow,
} from './planner';
import { readCompletedWindows, type ClusterState } from '../state';
import { moveWatermarkRow, readWatermarks, type ShardQuery } from './watermark';

export type { RollupLevel, RunTrigger } from '../../shared/rollup';

/** Progress of a run, window by window on each shard. */
export interface RollupProgress {
  kind: 'window-started' | 'window-finished';
  shard: number;
  shardName: string;
  level: RollupLevel;
  windowStart: string;
  windowEnd: string;
  /** 1-based position of the window in this shard's list, and the list's length. */
  position: number;
  windowCount: number;
  /** Set on `window-finished`. */
  result?: WindowResult;
}

export interface RollupRunOptions {
  /** Shard indexes; all when absent. An unknown index refuses the whole run before anything runs. */
  shards?: number[];
  trigger: RunTrigger;
  /** The lease's fencing token; none for manual runs without a lease (token 0, see advanceWatermark). */
  fencingToken?: number;
  /** Aborting kills the statements in flight; their windows roll back and are recorded as cancelled. */
  signal?: AbortSignal;
  onProgress?: (event: RollupProgress) => void;
  /** The time due windows are computed against (tests and catch-up simulations); defaults to the clock. */
  now?: Date;
}

/** Rolls raw page views up into hourly, daily and monthly rows, per shard, shards in parallel. */
export interface RollupService {
  /** Every due window of the level (after the watermark, complete, within retention), oldest first, per shard in parallel, plus the trailing re-roll for hourly. */
  runDue(level: RollupLevel, options: RollupRunOptions): Promise<RollupReport>;
  /** Exactly the whole windows covering [from, to), on whatever source is present; watermarks move only if contiguous. */
  runRange(level: RollupLevel, from: Date, to: Date, options: RollupRunOptions): Promise<RollupReport>;
  /** Planned windows with estimated source rows (for dry runs and the console), no writes. */
  plan(level: RollupLevel, range: { from: Date; to: Date } | 'due', options?: { shards?: number[]; now?: Date }): Promise<RollupPlan>;
  watermarks(): Promise<WatermarkRow[]>;
  runs(query: { limit: number; level?: RollupLevel }): Promise<RunRecord[]>;
  /** The same runs, with the shards whose history could not be read (the runs then lack theirs). */
  runHistory(query: { limit: number; level?: RollupLevel }): Promise<RollupRunHistory>;
  /** Cancels runs in progress and waits for them to finish recording. */
  dispose(): Promise<void>;
}

export interface RollupServiceOptions {
  /** Recorded with every run and watermark move; defaults to this machine's host name. */
  host?: string;
  clock?: () => Date;
  tuning?: Partial<RollupTuning>;
}

/** A run in progress: what it needs to report and to be cancelled. */
interface RunContext {
  runId: string;
  level: RollupLevel;
  trigger: RunTrigger;
  fencingToken?: number;
  signal: AbortSignal;
  progress: Emitter<RollupProgress>;
  /** Sessions inside a window, so a cancel can end them at once (KILL QUERY and a closed socket). */
  active: Set<ShardSession>;
}

/** What the window loop of one shard knows about its watermark. */
interface WatermarkCursor {
  continueFrom: Date | null;
  readyUntil: Date | null;
  /** Set while a due run begins a watermark that never existed, so its coverage start is recorded. */
  beginsAt?: Date;
  current: Date | null;
  /** Starts of the windows this run has still to do: a watermark never moves over them before they ran. */
  pending: Set<number>;
  /** The token the watermark held when it refused this run's move, for the report. */
  fencedBy?: number;
}

interface RunRow {
  id: number;
  run_id: string | null;
  shard_index: number | null;
  level: string;
  window_start: Date;
  window_end: Date;
  trigger_kind: string;
  host: string;
  started_at: Date;
  finished_at: Date | null;
  duration_ms: number | null;
  outcome: string;
  rows_read: number;
  rows_written: number;
  fencing_token: number | null;
  error: string | null;
  pid: number | null;
}

const iso = (at: Date | null | undefined) => (at ? at.toISOString() : null);

/** MySQL/MariaDB: "Row %u was cut by GROUP_CONCAT()", an error under strict mode in an INSERT … SELECT. */
const ER_CUT_VALUE_GROUP_CONCAT = 1260;
/** Big hourly sketches compacted per statement: at most 16 KiB each, well inside the default max_allowed_packet. */
const COMPACTION_PAGE_ROWS = 200;

/** The server's error number of a driver error, also when a coded error wraps it. */
function driverErrno(error: unknown): unknown {
  const { errno, cause } = (error ?? {}) as { errno?: unknown; cause?: { errno?: unknown } };
  return errno ?? cause?.errno;
}

export class ClusterRollupService implements RollupService {
  private readonly clock: () => Date;
  private readonly host: string;
  private readonly tuning: RollupTuning;
  private readonly work = new WorkTracker('rollup');

  constructor(
    private readonly connections: ClusterConnections,
    private readonly state: Pick<ClusterState, 'history'>,
    private readonly log: ScopedLogger,
    options: RollupServiceOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.host = (options.host ?? hostname()).slice(0, 255);
    this.tuning = { ...DEFAULT_ROLLUP_TUNING, ...options.tuning };
  }

  runDue(level: RollupLevel, options: RollupRunOptions): Promise<RollupReport> {
    return this.execute(level, undefined, options);
  }

  runRange(level: RollupLevel, from: Date, to: Date, options: RollupRunOptions): Promise<RollupReport> {
    return this.execute(level, { from, to }, options);
  }

  plan(level: RollupLevel, range: { from: Date; to: Date } | 'due', options: { shards?: number[]; now?: Date } = {}): Promise<RollupPlan> {
    return this.work.track(async () => {
      const checkedLevel = checkLevel(level);
      const rangeWindows = range === 'due' ? undefined : planRange(checkedLevel, range.from, range.to, this.tuning);
      const targets = this.resolveShards(options.shards);
      const now = options.now ?? this.clock();
      const spec = LEVELS[checkedLevel];
      const shards = await Promise.all(
        targets.map(async (handle) => {
          const base = { shard: handle.index, shardName: handle.label };
          try {
            const query: ShardQuery = (sql, params) => this.connections.query(handle.index, sql, params);
            const states = await this.levelStates(query);
            const windows =
              rangeWindows ??
              planDue(checkedLevel, now, states[checkedLevel], spec.sourceLevel && states[spec.sourceLevel], this.tuning, await this.changedSince(query, checkedLevel, now, states[checkedLevel], spec.sourceLevel && states[spec.sourceLevel])).windows;
            const partitionRows = partitionRowEstimates(await readTablePartitions((sql, params) => this.connections.query(handle.index, sql, params), spec.source));
            const sourceGranularity = PARTITION_SCHEMES[spec.source].granularity;
            return {
              ...base,
              watermark: iso(states[checkedLevel].watermark),
              windows: windows.map((window) => ({
                windowStart: window.start.toISOString(),
                windowEnd: window.end.toISOString(),
                reason: window.reason,
                estimatedSourceRows: partitionRows.get(partitionName(window.start, sourceGranularity)) ?? null,
              })),
            };
          } catch (error) {
            return { ...base, watermark: null, windows: [], problem: asProblem(describeShardError(error, handle)) };
          }
        }),
      );
      return { level: checkedLevel, shards };
    });
  }

  watermarks(): Promise<WatermarkRow[]> {
    return this.work.track(async () => {
      const perShard = await Promise.all(
        this.connections.shards.map(async (handle): Promise<WatermarkRow[]> => {
          const base = { shard: handle.index, shardName: handle.label };
          try {
            const stored = await readWatermarks((sql, params) => this.connections.query(handle.index, sql, params));
            return ROLLUP_LEVELS.map((level) => {
              const row = stored.find((candidate) => candidate.level === level);
              return {
                ...base,
                level,
                watermark: iso(row?.watermark),
                coveredFrom: iso(row?.coveredFrom),
                fencingToken: row?.fencingToken ?? 0,
                updatedAt: iso(row?.updatedAt),
                updatedBy: row?.updatedBy ?? null,
              };
            });
          } catch (error) {
            const problem = asProblem(describeShardError(error, handle));
            return ROLLUP_LEVELS.map((level) => ({ ...base, level, watermark: null, coveredFrom: null, fencingToken: 0, updatedAt: null, updatedBy: null, problem }));
          }
        }),
      );
      return perShard.flat();
    });
  }

  async runs(query: { limit: number; level?: RollupLevel }): Promise<RunRecord[]> {
    return (await this.runHistory(query)).runs;
  }

  runHistory(query: { limit: number; level?: RollupLevel }): Promise<RollupRunHistory> {
    return this.work.track(async () => {
      const level = query.level === undefined ? undefined : checkLevel(query.level);
      const select = {
        sql: `SELECT id, run_id, shard_index, level, window_start, window_end, trigger_kind, host, started_at, finished_at, duration_ms,
                     outcome, rows_read, rows_written, fencing_token, error, pid
                FROM strata_job_runs WHERE job = 'rollup'${level ? ' AND level = ?' : ''}
               ORDER BY started_at DESC, id DESC LIMIT ?`,
        params: level ? [level] : [],
      };
      const read = await this.state.history.read(select, query.limit, (row: RunRow, readFrom) => this.toRunRecord(row, readFrom));
      return { runs: read.records, unreadShards: read.unread };
    });
  }

  dispose(): Promise<void> {
    return this.work.dispose();
  }

  private resolveShards(indexes: number[] | undefined): ShardHandle[] {
    if (!indexes) return [...this.connections.shards];
    return [...new Set(indexes)].map((index) => this.connections.shard(index));
  }

  private async levelStates(query: ShardQuery): Promise<Record<RollupLevel, LevelState>> {
    const stored = await readWatermarks(query);
    const state = (level: RollupLevel): LevelState => {
      const row = stored.find((candidate) => candidate.level === level);
      return { watermark: row?.watermark ?? null, coveredFrom: row?.coveredFrom ?? null };
    };
    return { hourly: state('hourly'), daily: state('daily'), monthly: state('monthly') };
  }

  private execute(level: RollupLevel, range: { from: Date; to: Date } | undefined, options: RollupRunOptions): Promise<RollupReport> {
    // Everything a caller can get wrong is refused here, before a single statement runs.
    let checkedLevel: RollupLevel;
    let rangeWindows: RollupWindow[] | undefined;
    let targets: ShardHandle[];
    try {
      checkedLevel = checkLevel(level);
      rangeWindows = range ? planRange(checkedLevel, range.from, range.to, this.tuning) : undefined;
      targets = this.resolveShards(options.shards);
      if (options.fencingToken !== undefined && (!Number.isSafeInteger(options.fencingToken) || options.fencingToken < 0)) {
        throw new StrataError(ErrorCode.RollupInvalid, `fencing token must be a non-negative integer, got ${options.fencingToken}`);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return this.work.track(async () => {
      const signal = options.signal ? AbortSignal.any([options.signal, this.work.signal]) : this.work.signal;
      const context: RunContext = {
        runId: randomUUID(),
        level: checkedLevel,
        trigger: options.trigger,
        fencingToken: options.fencingToken,
        signal,
        active: new Set(),
        progress: new Emitter(this.log, 'rollup progress'),
      };
      if (options.onProgress) context.progress.on(options.onProgress);
      const onAbort = () => this.killActive(context);
      signal.addEventListener('abort', onAbort, { once: true });
      const now = options.now ?? this.clock();
      this.log.info(`rollup ${checkedLevel} (${options.trigger}) run ${context.runId} on ${targets.map((handle) => handle.label).join(', ')}`);
      try {
        const shards = await Promise.all(targets.map((handle) => this.runShard(handle, context, now, rangeWindows)));
        // A run without the lease is not expected to own the watermark: its fenced windows were written, as asked.
        const done = (outcome: WindowResult['outcome']) => outcome === 'ok' || (outcome === 'fenced' && !options.fencingToken);
        const ok = shards.every((shard) => !shard.problem && shard.windows.every((window) => done(window.outcome)));
        return { runId: context.runId, level: checkedLevel, trigger: options.trigger, ok, shards };
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    });
  }

  /** A KILL QUERY alone cannot stop a read whose server died: each session is also closed, so its statement ends now. */
  private killActive(context: RunContext): void {
    for (const session of context.active) session.abort(new StrataError(ErrorCode.Cancelled, 'cancelled'));
  }

  private async runShard(handle: ShardHandle, context: RunContext, now: Date, rangeWindows: RollupWindow[] | undefined): Promise<ShardRollupReport> {
    const report: ShardRollupReport = { shard: handle.index, shardName: handle.label, watermarkBefore: null, watermarkAfter: null, windows: [] };
    let writer: ShardSession | undefined;
    let watermarkRead = false;
    let cursor: WatermarkCursor | undefined;
    try {
      writer = await this.connections.session(handle.index, { signal: context.signal });
      const session = writer;
      const query: ShardQuery = (sql, params) => session.query(sql, params);
      // A cancel also ends the reads before the first window (a shard that stopped answering hangs there first).
      context.active.add(session);
      for (const sql of sessionSetupSql(this.tuning.sessionTempTableBytes, this.tuning.sqlSketchBytes)) await query(sql);
      const states = await this.levelStates(query);
      const spec = LEVELS[context.level];
      const state = states[context.level];
      const source = spec.sourceLevel ? states[spec.sourceLevel] : undefined;
      report.watermarkBefore = iso(state.watermark);
      watermarkRead = true;
      let windows: RollupWindow[];
      cursor = { continueFrom: state.watermark, readyUntil: readyUntil(context.level, now, source, this.tuning), current: state.watermark, pending: new Set() };
      if (rangeWindows) {
        windows = rangeWindows;
      } else {
        const due = planDue(context.level, now, state, source, this.tuning, await this.changedSince(query, context.level, now, state, source));
        windows = due.windows;
        cursor.continueFrom = due.continueFrom;
        if (!state.watermark) cursor.beginsAt = due.continueFrom;
        if (due.lostBefore) this.log.warn(`${handle.label}: ${context.level} watermark ${iso(state.watermark)} is older than retention holds; continuing from ${iso(due.lostBefore)}`);
      }
      context.active.delete(session);
      for (const window of windows) cursor.pending.add(window.start.getTime());
      for (const [index, window] of windows.entries()) {
        if (context.signal.aborted) {
          report.problem = { code: ErrorCode.Cancelled, message: `cancelled before the window ${window.start.toISOString()}` };
          break;
        }
        const position = { shard: handle.index, shardName: handle.label, level: context.level, windowStart: window.start.toISOString(), windowEnd: window.end.toISOString(), position: index + 1, windowCount: windows.length };
        context.progress.emit({ kind: 'window-started', ...position });
        const startedAt = this.clock();
        cursor.pending.delete(window.start.getTime());
        const { keptRows, ...result } = await this.runWindow(handle, session, query, context, window, cursor);
        const broken = (result.outcome === 'failed' && !keptRows) || result.outcome === 'cancelled';
        if (broken) {
          // The session may be mid-statement or gone; the window's transaction dies with it.
          session.destroy();
          writer = undefined;
        }
        report.windows.push(result);
        await this.recordRun(handle, context, window, startedAt, result);
        context.progress.emit({ kind: 'window-finished', ...position, result });
        // A fenced window was written like an ok one (only the watermark stayed), and a kept one never moves the
        // watermark (its run is recorded failed): the windows after either still run.
        if (broken) break;
      }
      report.watermarkAfter = iso(cursor.current);
      writer?.release();
    } catch (error) {
      writer?.destroy();
      const failure = describeShardError(error, handle);
      this.log.warn(`rollup ${context.level} could not run on ${handle.label}`, failure);
      report.problem = asProblem(failure);
      // A shard that stops mid-run still has the watermark it reached, not none.
      if (watermarkRead) report.watermarkAfter = iso(cursor?.current);
      else report.watermarkRead = false;
      // A cancel before the first window ran nothing: no failed run is recorded for a window never attempted.
      if (report.windows.length === 0 && !context.signal.aborted) await this.recordUnreachable(handle, context, now, rangeWindows?.[0], failure);
    }
    return report;
  }

  /**
   * One window in one transaction. A window whose source now holds fewer page views than its rows is not rewritten
   * (`keptRows`): its transaction is rolled back cleanly, so the session goes on with the next window.
   */
  private async runWindow(
    handle: ShardHandle,
    session: ShardSession,
    query: ShardQuery,
    context: RunContext,
    window: RollupWindow,
    cursor: WatermarkCursor,
  ): Promise<WindowResult & { keptRows?: true }> {
    const started = performance.now();
    const base = { windowStart: window.start.toISOString(), windowEnd: window.end.toISOString() };
    context.active.add(session);
    let rows: { rowsRead: number; rowsWritten: number };
    let pageViewsChanged = true;
    try {
      if (context.signal.aborted) throw new StrataError(ErrorCode.Cancelled, 'cancelled');
      await query('START TRANSACTION');
      // A window never rolled up has nothing to lose: only one that holds rows pays for counting its source.
      const [held] = (await query(windowPageViewsSql(context.level), [window.start, window.end])) as Array<{ page_views: number | string }>;
      const short =
        Number(held?.page_views ?? 0) > 0
          ? shortSource((await query(windowTotalsSql(context.level), [window.start, window.end, window.start, window.end])) as Parameters<typeof shortSource>[0])
          : undefined;
      if (short) {
        await query('ROLLBACK');
        this.log.warn(`rollup ${context.level} ${base.windowStart} kept on ${handle.label}: source ${short.sourceViews} < rolled up ${short.rolledUpViews}`);
        return { ...base, outcome: 'failed', rowsRead: 0, rowsWritten: 0, durationMs: Math.round(performance.now() - started), error: sourceShortMessage(context.level, window, short), code: ErrorCode.RollupSourceIncomplete, keptRows: true };
      }
      await session.query(deleteWindowSql(context.level), [window.start, window.end], { kind: 'write' });
      rows = context.level === 'hourly' ? await this.rollHour(session, window) : await this.mergeWindow(handle, session, context, window);
      // Whether the re-roll changed anything a chart shows: the trailing re-roll of every hourly run mostly does not,
      // and the application's cached charts should only be invalidated for windows that did change.
      // A window that held nothing (its first roll-up, the usual case) changed if it now holds rows: no second read.
      const heldViews = Number(held?.page_views ?? 0);
      if (heldViews === 0) {
        pageViewsChanged = rows.rowsWritten > 0;
      } else {
        const [written] = (await query(windowPageViewsSql(context.level), [window.start, window.end])) as Array<{ page_views: number | string | null }>;
        pageViewsChanged = Number(written?.page_views ?? 0) !== heldViews;
      }
      await session.query('COMMIT', [], { kind: 'write' });
    } catch (error) {
      const cancelled = context.signal.aborted;
      const failure = cancelled ? new StrataError(ErrorCode.Cancelled, 'cancelled; the window was rolled back') : describeShardError(error, handle);
      if (!cancelled) this.log.warn(`rollup ${context.level} ${base.windowStart} failed on ${handle.label}`, error);
      return { ...base, outcome: cancelled ? 'cancelled' : 'failed', rowsRead: 0, rowsWritten: 0, durationMs: Math.round(performance.now() - started), error: failure.message };
    } finally {
      context.active.delete(session);
    }
    let effect: WatermarkEffect = 'unchanged';
    try {
      effect = await this.moveWatermark(handle, query, context, window, cursor);
    } catch (error) {
      const failure = describeShardError(error, handle);
      return { ...base, outcome: 'failed', ...rows, durationMs: Math.round(performance.now() - started), error: `the window was written but its watermark could not be moved: ${failure.message}` };
    }
    const outcome = effect === 'fenced' ? 'fenced' : 'ok';
    const error = effect === 'fenced' ? fencedMessage(context.fencingToken, cursor.fencedBy) : undefined;
    return { ...base, outcome, ...rows, durationMs: Math.round(performance.now() - started), watermark: effect, pageViewsChanged, ...(error ? { error } : {}) };
  }

  /**
   * After a window commits: moves the watermark if the window continues it, then over later windows whose latest
   * run on this shard committed and whose source has not changed since (never over one this run still has to do).
   */
  private async moveWatermark(handle: ShardHandle, query: ShardQuery, context: RunContext, window: RollupWindow, cursor: WatermarkCursor): Promise<WatermarkEffect> {
    if (!advancesWatermark(window, cursor.continueFrom, cursor.readyUntil) || !cursor.readyUntil) return 'unchanged';
    const until = cursor.readyUntil;
    const nextPending = [...cursor.pending].filter((start) => start >= window.end.getTime()).sort((a, b) => a - b)[0];
    const stopAt = new Date(Math.min(until.getTime(), nextPending ?? until.getTime()));
    const completed = stopAt > window.end ? await readCompletedWindows(query, context.level, handle.index, window.end, stopAt) : [];
    let to = extendThroughUnchanged(context.level, window.end, completed, [], stopAt);
    if (to > window.end) {
      // One grouped statement over the whole chain: rolled-up totals against the source's totals now.
      const totals = (await query(windowTotalsSql(context.level), [window.end, to, window.end, to])) as Parameters<typeof changedWindows>[0];
      to = extendThroughUnchanged(context.level, window.end, completed, changedWindows(totals), stopAt);
    }
    const moved = await moveWatermarkRow(query, {
      level: context.level,
      to,
      fencingToken: context.fencingToken,
      coveredFrom: cursor.beginsAt,
      by: this.host,
      at: this.clock(),
    });
    if (moved.effect === 'advanced') {
      cursor.continueFrom = to;
      cursor.current = to;
      cursor.beginsAt = undefined;
    }
    if (moved.effect === 'fenced') cursor.fencedBy = moved.storedToken;
    return moved.effect;
  }

  /** Windows before the watermark that a due run re-rolls because their source totals changed since (daily, monthly). */
  private async changedSince(query: ShardQuery, level: RollupLevel, now: Date, state: LevelState, source: LevelState | undefined): Promise<Date[]> {
    const lookback = changedLookback(level, now, state, source, this.tuning);
    if (!lookback) return [];
    const totals = (await query(windowTotalsSql(level), [lookback.from, lookback.to, lookback.from, lookback.to])) as Parameters<typeof changedWindows>[0];
    return changedWindows(totals, { grewOnly: true });
  }

  /**
   * One statement in the shard, then each SQL sketch larger than the dense form (a site with more than 4,096 page
   * views in the hour) is compacted from Node; a site with more page views than one SQL sketch collects (its
   * sketch was cut short) gets its registers from raw instead. The statements that scan the hour's raw rows get
   * the write deadline, the short lookups the read deadline.
   */
  private async rollHour(session: ShardSession, window: RollupWindow): Promise<{ rowsRead: number; rowsWritten: number }> {
    const query: ShardQuery = (sql, params) => session.query(sql, params);
    const scan = (sql: string, params: unknown[]) => session.query(sql, params, { kind: 'write' });
    const params = [window.start, window.start, window.end];
    let inserted: { affectedRows?: number };
    try {
      inserted = (await scan(hourlyInsertSql(), params)) as { affectedRows?: number };
    } catch (error) {
      if (driverErrno(error) !== ER_CUT_VALUE_GROUP_CONCAT) throw error;
      // Strict mode refuses the statement when a site has more page views than one SQL sketch collects; the
      // statement alone was rolled back. Once more without strict mode, and that site's sketch is rebuilt below.
      const [mode] = (await query('SELECT @@SESSION.sql_mode AS mode')) as Array<{ mode: string }>;
      await query(`SET SESSION sql_mode = REPLACE(REPLACE(@@SESSION.sql_mode, 'STRICT_TRANS_TABLES', ''), 'STRICT_ALL_TABLES', '')`);
      try {
        inserted = (await scan(hourlyInsertSql(), params)) as { affectedRows?: number };
      } finally {
        await query('SET SESSION sql_mode = ?', [mode?.mode ?? '']);
      }
    }
    // Paged by site so an hour of a very busy cluster never holds all its big SQL-built sketches in memory at once.
    const accumulator = new SketchAccumulator();
    for (let afterSite = -1; ; ) {
      const oversized = (await query(oversizedSketchesSql(), [window.start, afterSite, COMPACTION_PAGE_ROWS])) as Array<{
        site_id: number;
        page_views: number | string;
        visitors: number | string;
        visitors_sketch: Buffer;
      }>;
      if (oversized.length === 0) break;
      const compacted: unknown[][] = [];
      for (const row of oversized) {
        accumulator.reset();
        if (row.visitors_sketch.length === HEADER_BYTES + SPARSE_ENTRY_BYTES * Number(row.page_views)) {
          accumulator.merge(row.visitors_sketch);
        } else if (Number(row.visitors) <= SPARSE_LIMIT) {
          const hashes = (await scan(siteHashesSql(), [row.site_id, window.start, window.end])) as Array<{ h: number | string }>;
          for (const { h } of hashes) accumulator.addHash(Number(h));
        } else {
          const registers = (await scan(siteRegistersSql(), [row.site_id, window.start, window.end])) as Array<{ register: number | string; rank: number | string }>;
          for (const { register, rank } of registers) accumulator.addRegister(Number(register), Number(rank));
        }
        compacted.push([row.site_id, window.start, accumulator.encode()]);
        afterSite = row.site_id;
      }
      await query(updateSketchesSql(), [compacted]);
    }
    const [totals] = (await query(windowPageViewsSql('hourly'), [window.start, window.end])) as Array<{ page_views: number | string }>;
    return { rowsRead: Number(totals?.page_views ?? 0), rowsWritten: Number(inserted.affectedRows ?? 0) };
  }

  /**
   * Daily and monthly: reads the source rows of the window in site order, page by page, on a second session that
   * holds one consistent snapshot for the whole window (as a single SELECT would); merges each site's sketches in
   * Node and writes the rows in batches on the window's transaction. Every page is a statement with the read
   * deadline, so a shard that dies or stops answering mid-read fails the window instead of hanging it.
   */
  private async mergeWindow(handle: ShardHandle, writer: ShardSession, context: RunContext, window: RollupWindow): Promise<{ rowsRead: number; rowsWritten: number }> {
    const spec = LEVELS[context.level];
    const reader = await this.connections.session(handle.index, { signal: context.signal });
    context.active.add(reader);
    const accumulator = new SketchAccumulator();
    let batch: unknown[][] = [];
    let batchBytes = 0;
    let rowsRead = 0;
    let rowsWritten = 0;
    let site = -1;
    let pageViews = 0;
    let mostVisitors = 0;
    let visitorSum = 0;
    const finishSite = () => {
      // The union has at least the visitors of its largest part and at most all of them together.
      const estimate = Math.min(Math.max(Math.round(accumulator.estimate()), mostVisitors), visitorSum);
      const sketch = accumulator.encode();
      batch.push([site, window.start, pageViews, estimate, sketch]);
      batchBytes += sketch.length;
      accumulator.reset();
      pageViews = 0;
      mostVisitors = 0;
      visitorSum = 0;
    };
    const flush = async () => {
      if (batch.length === 0) return;
      const rows = batch;
      batch = [];
      batchBytes = 0;
      await writer.query(insertMergedSql(context.level), [rows]);
      rowsWritten += rows.length;
    };
    try {
      if (context.signal.aborted) throw new StrataError(ErrorCode.Cancelled, 'cancelled');
      await reader.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await reader.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      let after: { site: number; period: Date } = { site: -1, period: window.start };
      for (;;) {
        const page = await reader.query<Array<{ site_id: number; period: Date; page_views: number | string; visitors: number; visitors_sketch: Buffer | null }>>(
          mergeSourcePageSql(context.level),
          [window.start, window.end, after.site, after.site, after.period, this.tuning.mergePageRows],
        );
        for (const row of page) {
          rowsRead += 1;
          if (row.site_id !== site) {
            if (site >= 0) finishSite();
            // Dense sketches are 16 KiB each and travel as hex: cap a statement by bytes too, for memory and max_allowed_packet.
            if (batch.length >= this.tuning.insertBatchRows || batchBytes >= this.tuning.insertBatchSketchBytes) await flush();
            site = row.site_id;
          }
          if (!row.visitors_sketch) {
            throw new StrataError(
              ErrorCode.RollupSourceIncomplete,
              `${spec.source} has a row of site ${row.site_id} without a visitor sketch (written before migration 2); re-roll the ${spec.sourceLevel} windows of ${window.start.toISOString()} first`,
            );
          }
          pageViews += Number(row.page_views);
          mostVisitors = Math.max(mostVisitors, Number(row.visitors));
          visitorSum += Number(row.visitors);
          accumulator.merge(row.visitors_sketch);
        }
        const last = page.at(-1);
        if (!last || page.length < this.tuning.mergePageRows) break;
        after = { site: last.site_id, period: last.period };
      }
      if (site >= 0) finishSite();
      await flush();
      await reader.query('COMMIT');
      reader.release();
    } catch (error) {
      reader.destroy();
      throw error;
    } finally {
      context.active.delete(reader);
    }
    return { rowsRead, rowsWritten };
  }

  /**
   * A shard that fails before its first window still leaves a trace in the history (on another shard), so the Jobs
   * page shows the outage; the window named is the first of the range, or the last complete one of the level.
   */
  private async recordUnreachable(handle: ShardHandle, context: RunContext, now: Date, firstWindow: RollupWindow | undefined, failure: StrataError): Promise<void> {
    const current = planRange(context.level, new Date(now.getTime() - 1), now)[0];
    const window = firstWindow ?? (current ? planRange(context.level, new Date(current.start.getTime() - 1), current.start)[0] : undefined);
    if (!window) return;
    const result: WindowResult = {
      windowStart: window.start.toISOString(),
      windowEnd: window.end.toISOString(),
      outcome: 'failed',
      rowsRead: 0,
      rowsWritten: 0,
      durationMs: 0,
      error: failure.message,
    };
    await this.recordRun(handle, context, window, this.clock(), result);
  }

  /** Writes the run's record on its shard, or, when that shard is unreachable, on the first one that answers. */
  private async recordRun(handle: ShardHandle, context: RunContext, window: RollupWindow, startedAt: Date, result: WindowResult): Promise<void> {
    await this.state.history.record({
      job: 'rollup',
      level: context.level,
      shard: handle.index,
      windowStart: window.start,
      windowEnd: window.end,
      trigger: context.trigger,
      host: this.host,
      runId: context.runId,
      startedAt,
      finishedAt: this.clock(),
      outcome: result.outcome,
      rowsRead: result.rowsRead,
      rowsWritten: result.rowsWritten,
      durationMs: result.durationMs,
      fencingToken: context.fencingToken ?? null,
      error: result.error && result.code ? `error ${result.code} (${errorCodeName(result.code)}): ${result.error}` : (result.error ?? null),
    });
  }

  private toRunRecord(row: RunRow, readFrom: ShardHandle): RunRecord {
    const shard = row.shard_index ?? readFrom.index;
    const level = rollupLevelSchema.safeParse(row.level);
    return {
      id: Number(row.id),
      runId: row.run_id,
      shard,
      shardName: this.state.history.shardName(shard),
      level: level.success ? level.data : 'hourly',
      windowStart: row.window_start.toISOString(),
      windowEnd: row.window_end.toISOString(),
      trigger: row.trigger_kind as RunTrigger,
      host: row.host,
      startedAt: row.started_at.toISOString(),
      finishedAt: iso(row.finished_at),
      durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
      outcome: row.outcome as RunRecord['outcome'],
      rowsRead: Number(row.rows_read),
      rowsWritten: Number(row.rows_written),
      fencingToken: row.fencing_token === null ? null : Number(row.fencing_token),
      error: row.error,
      pid: row.pid === null ? null : Number(row.pid),
    };
  }
}

/** Why a written window left the watermark where it was: whose the watermark is, said plainly. */
function fencedMessage(runToken: number | undefined, storedToken: number | undefined): string {
  const stored = storedToken === undefined ? 'a higher fencing token' : `fencing token ${storedToken}`;
  if (runToken === undefined || runToken === 0) {
    return `the window was written; the watermark belongs to the scheduler's lease (${stored}) and a run without the lease does not move it`;
  }
  return `the window was written; the watermark holds ${stored}, newer than this run's ${runToken}, so another lease holder owns it and it was not moved`;
}

/** Why a window was not rolled up again: its source lost page views its rows still hold. */
function sourceShortMessage(level: RollupLevel, window: RollupWindow, short: { sourceViews: number; rolledUpViews: number }): string {
  const { source } = LEVELS[level];
  return (
    `the source of the ${level} window ${window.start.toISOString()} (${source}) holds ${short.sourceViews} page views, fewer than the ` +
    `${short.rolledUpViews} already rolled up (it was pruned or deleted); the rolled-up rows were kept`
  );
}

function checkLevel(level: unknown): RollupLevel {
  const parsed = rollupLevelSchema.safeParse(level);
  if (!parsed.success) throw new StrataError(ErrorCode.RollupInvalid, `unknown rollup level '${String(level)}'; use hourly, daily or monthly`);
  return parsed.data;
}
