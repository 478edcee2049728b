import { hostname } from 'node:os';
import type { PoolConnection } from 'mysql2/promise';
import {
  backfillRequestSchema,
  RESUMABLE_STATES,
  type BackfillPlan,
  type BackfillProgress,
  type BackfillRecord,
  type BackfillRequestInput,
  type BackfillState,
  type BackfillWindow,
  type BackfillWindowResult,
  type TimeEstimate,
} from '../../shared/backfill';
import { ErrorCode, StrataError, type ErrorCodeValue } from '../../shared/errors';
import { DEFAULT_RETENTION, rollupLevelSchema, type RetentionPolicy, type RollupLevel, type RollupReport } from '../../shared/rollup';
import { toFailure } from '../../shared/result';
import { describeShardError, type ClusterConnections } from '../cluster/connections';
import { runUnderLease } from '../lease/exclusive';
import type { ClusterLease } from '../lease/lease';
import { osUser } from '../identity';
import type { ScopedLogger } from '../log';
import type { RollupService } from '../rollup/service';
import {
  affectedSpan,
  BACKFILL_CONTROL_SHARD,
  BACKFILLS_TABLE,
  backfillSteps,
  cancelRequester,
  cancelRequestNote,
  cascadeSourceComplete,
  effectiveState,
  estimateFromHistory,
  LIVE_STATES,
  outsideSourceRetention,
  parseRange,
  presentSourceWindowsSql,
  refusedRanges,
  remainingMs,
  resolveShards,
  spansOverlap,
  windowEstimateMs,
  type BackfillStep,
} from './planner';

/** What a finished (or stopped) run of a backfill did in this process. */
export interface BackfillOutcome {
  record: BackfillRecord;
  windows: BackfillWindowResult[];
}

/** A backfill started (or resumed) in this process: its record as stored at the start, and its end. */
export interface BackfillRun {
  record: BackfillRecord;
  /** Never rejects: a failure ends in a record with state `failed` and its error. */
  finished: Promise<BackfillOutcome>;
}

/** Recomputes ranges of rollup windows, window by window, resumable after a crash; runs beside the scheduler. */
export interface BackfillService {
  /** The dry run: nothing is written. */
  plan(request: BackfillRequestInput): Promise<BackfillPlan>;
  /** Refuses bad input, pruned sources and overlaps before anything runs; then runs in the background. */
  start(request: BackfillRequestInput): Promise<BackfillRun>;
  /** Continues an interrupted, cancelled or failed backfill from its next window. */
  resume(id: number): Promise<BackfillRun>;
  /**
   * Cancels a backfill wherever it runs and waits (a while) until its current window has rolled back: this process's
   * own at once; another process's through a request on its row, which that process acts on within seconds. An
   * interrupted one is just marked cancelled. Answers `cancelling` if the other process has not stopped in time.
   */
  cancel(id: number): Promise<BackfillRecord>;
  list(limit: number): Promise<BackfillRecord[]>;
  get(id: number): Promise<BackfillRecord>;
  /** Every window started or finished by a backfill this process runs. */
  onProgress(listener: (progress: BackfillProgress) => void): () => void;
  /** Cancels the backfills this process runs (they become resumable) and waits for them. */
  dispose(): Promise<void>;
}

export interface BackfillServiceOptions {
  host?: string;
  actor?: string;
  clock?: () => Date;
  retention?: RetentionPolicy;
  /**
   * The retention policy stored in the cluster (the composition root passes the retention service's): a window
   * past it may have been pruned, so its source is checked before anything is rebuilt from it.
   */
  retentionSource?: () => Promise<RetentionPolicy>;
  /** How often a running backfill touches its row, so other hosts can tell it is alive. */
  heartbeatMs?: number;
  /** A backfill of another host without a heartbeat for this long counts as interrupted. */
  staleAfterMs?: number;
  /** How often a running backfill looks for a cancel request on its row (also at every window boundary). */
  cancelCheckMs?: number;
  /** How long cancel waits for another process to stop before answering with the backfill still `cancelling`. */
  cancelWaitMs?: number;
}

interface BackfillRow {
  id: number;
  level: string;
  range_from: Date;
  range_to: Date;
  shards: string;
  cascade_up: number;
  state: string;
  windows_total: number;
  windows_done: number;
  next_window_level: string | null;
  next_window_start: Date | null;
  rows_read: number;
  rows_written: number;
  estimated_ms: number;
  created_by: string;
  host: string;
  pid: number;
  created_at: Date;
  started_at: Date;
  updated_at: Date;
  finished_at: Date | null;
  error: string | null;
}

interface CheckedRequest {
  level: RollupLevel;
  from: Date;
  to: Date;
  shards: number[];
  cascade: boolean;
  steps: BackfillStep[];
}

interface ActiveBackfill {
  controller: AbortController;
  /** Who cancelled it (`user@host`), once someone has. */
  cancelledBy?: string;
}

const CANCEL_POLL_MS = 200;

const ADMISSION_LOCK = 'strata_backfill_admission';
const ADMISSION_WAIT_SECONDS = 10;
const HISTORY_SAMPLES = 500;


function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const iso = (at: Date) => at.toISOString();

export class ClusterBackfillService implements BackfillService {
  private readonly host: string;
  private readonly actor: string;
  private readonly clock: () => Date;
  private readonly retention: () => Promise<RetentionPolicy>;
  private readonly heartbeatMs: number;
  private readonly staleAfterMs: number;
  private readonly listeners = new Set<(progress: BackfillProgress) => void>();
  private readonly cancelCheckMs: number;
  private readonly cancelWaitMs: number;
  private readonly active = new Map<number, ActiveBackfill & { finished: Promise<BackfillOutcome> }>();
  private disposed = false;

  constructor(
    private readonly connections: ClusterConnections,
    private readonly rollup: RollupService,
    private readonly lease: ClusterLease,
    private readonly log: ScopedLogger,
    options: BackfillServiceOptions = {},
  ) {
    this.host = (options.host ?? hostname()).slice(0, 255);
    this.actor = `${options.actor ?? osUser()}@${this.host}`.slice(0, 255);
    this.clock = options.clock ?? (() => new Date());
    const fixed = options.retention ?? { ...DEFAULT_RETENTION };
    this.retention = options.retentionSource ?? (async () => fixed);
    this.heartbeatMs = options.heartbeatMs ?? 10_000;
    this.staleAfterMs = options.staleAfterMs ?? 6 * this.heartbeatMs;
    this.cancelCheckMs = options.cancelCheckMs ?? Math.min(this.heartbeatMs, 2000);
    this.cancelWaitMs = options.cancelWaitMs ?? 60_000;
  }

  async plan(input: BackfillRequestInput): Promise<BackfillPlan> {
    return this.planChecked(this.check(input));
  }

  async start(input: BackfillRequestInput): Promise<BackfillRun> {
    this.assertOpen();
    const request = this.check(input);
    const plan = await this.planChecked(request);
    this.assertRunnable(plan);
    const now = this.clock();
    const id = await this.admit(request, async (connection) => {
      const [result] = (await connection.query(
        `INSERT INTO ${BACKFILLS_TABLE} (level, range_from, range_to, shards, cascade_up, state, windows_total, windows_done, next_window_level, next_window_start,
           estimated_ms, created_by, host, pid, created_at, started_at, updated_at) VALUES (?, ?, ?, ?, ?, 'running', ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          request.level,
          request.from,
          request.to,
          request.shards.join(','),
          request.cascade ? 1 : 0,
          request.steps.length,
          request.steps[0]?.level ?? null,
          request.steps[0]?.start ?? null,
          plan.estimatedMs,
          this.actor,
          this.host,
          process.pid,
          now,
          now,
          now,
        ],
      )) as unknown as [{ insertId: number }];
      return Number(result.insertId);
    });
    this.log.info(`backfill ${id}: ${request.level} ${iso(request.from)} – ${iso(request.to)} on shards ${request.shards.join(',')}${request.cascade ? ' with cascade' : ''}, ${request.steps.length} windows`);
    return this.launch(id, request, plan, 0);
  }

  async resume(id: number): Promise<BackfillRun> {
    this.assertOpen();
    const stored = await this.get(id);
    if (!RESUMABLE_STATES.includes(stored.state)) {
      throw new StrataError(
        ErrorCode.BackfillNotResumable,
        LIVE_STATES.includes(stored.state)
          ? `backfill ${id} is still ${stored.state} on ${stored.host} (pid ${stored.pid}); only an interrupted, cancelled or failed backfill can be resumed`
          : `backfill ${id} is ${stored.state}; only an interrupted, cancelled or failed backfill can be resumed`,
      );
    }
    const request = this.check({ level: stored.level, from: stored.from, to: stored.to, shards: stored.shards, cascade: stored.cascade });
    if (request.steps.length !== stored.windowsTotal) {
      throw new StrataError(ErrorCode.BackfillNotResumable, `backfill ${id} was planned with ${stored.windowsTotal} windows but this version of Strata plans ${request.steps.length}; start a new one`);
    }
    const plan = await this.planChecked(request, stored.windowsDone);
    this.assertRunnable(plan);
    const now = this.clock();
    await this.admit(request, async (connection) => {
      const [result] = (await connection.query(
        `UPDATE ${BACKFILLS_TABLE} SET state = 'running', host = ?, pid = ?, started_at = ?, updated_at = ?, finished_at = NULL, error = NULL
          WHERE id = ? AND (state NOT IN ('running', 'cancelling') OR (host = ? AND pid = ?))`,
        [this.host, process.pid, now, now, id, stored.host, stored.pid],
      )) as unknown as [{ affectedRows: number }];
      if (Number(result.affectedRows) !== 1) throw new StrataError(ErrorCode.BackfillNotResumable, `backfill ${id} was resumed by someone else just now`);
      return id;
    }, id);
    this.log.info(`backfill ${id} resumed at window ${stored.windowsDone + 1} of ${stored.windowsTotal}`);
    return this.launch(id, request, plan, stored.windowsDone);
  }

  async cancel(id: number): Promise<BackfillRecord> {
    const local = this.active.get(id);
    if (local) {
      this.stop(local, this.actor);
      // Stopping comes first and does not wait for this: Ctrl-C must work even when the control shard does not answer.
      const audited = this.get(id)
        .then((record) => this.onControlShard((connection) => this.audit(connection, this.clock(), { ...record, state: 'running' }, {})))
        .catch((error: unknown) => this.log.warn(`could not write the audit entry of cancelling backfill ${id}`, error));
      const { record } = await local.finished;
      await audited;
      return record;
    }
    const stored = await this.get(id);
    if (stored.state === 'interrupted') return this.cancelInterrupted(stored);
    if (stored.state === 'running' && !(await this.requestCancel(stored))) {
      const now = await this.get(id);
      if (now.state === 'interrupted') return this.cancelInterrupted(now);
      if (now.state !== 'cancelling') throw this.notCancellable(now);
    } else if (stored.state !== 'running' && stored.state !== 'cancelling') {
      throw this.notCancellable(stored);
    }
    return this.awaitStop(id);
  }

  async list(limit: number): Promise<BackfillRecord[]> {
    const rows = await this.connections.query<BackfillRow[]>(
      BACKFILL_CONTROL_SHARD,
      `SELECT * FROM ${BACKFILLS_TABLE} ORDER BY id DESC LIMIT ?`,
      [Math.max(1, Math.min(1000, Math.floor(limit)))],
    );
    return rows.map((row) => this.toRecord(row));
  }

  async get(id: number): Promise<BackfillRecord> {
    const [row] = await this.connections.query<BackfillRow[]>(BACKFILL_CONTROL_SHARD, `SELECT * FROM ${BACKFILLS_TABLE} WHERE id = ?`, [id]);
    if (!row) throw new StrataError(ErrorCode.BackfillNotFound, `there is no backfill ${id}; strata backfill list shows the recent ones`);
    return this.toRecord(row);
  }

  onProgress(listener: (progress: BackfillProgress) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    for (const running of this.active.values()) this.stop(running, `${this.actor} (Strata shut down)`);
    await Promise.allSettled([...this.active.values()].map((running) => running.finished));
    this.listeners.clear();
  }

  private notCancellable(record: BackfillRecord): StrataError {
    return new StrataError(
      ErrorCode.BackfillNotRunning,
      `backfill ${record.id} is ${record.state}${record.finishedAt ? ` since ${record.finishedAt}` : ''}; only a running or interrupted backfill can be cancelled`,
    );
  }

  /** Aborts a backfill of this process through its controller: the window in flight rolls back. */
  private stop(active: ActiveBackfill, by: string): void {
    if (active.controller.signal.aborted) return;
    active.cancelledBy = by;
    active.controller.abort(new StrataError(ErrorCode.Cancelled, `cancelled by ${by}`));
  }

  /** A session on the control shard (shard 0), or a coded error naming it when it does not answer. */
  private async controlConnection(): Promise<PoolConnection> {
    try {
      return await (await this.connections.pool(BACKFILL_CONTROL_SHARD)).getConnection();
    } catch (error) {
      throw describeShardError(error, this.connections.shard(BACKFILL_CONTROL_SHARD));
    }
  }

  /** Runs `work` in one transaction on the control shard, where the backfills and the audit log live. */
  private async onControlShard<T>(work: (connection: PoolConnection) => Promise<T>): Promise<T> {
    const connection = await this.controlConnection();
    try {
      await connection.beginTransaction();
      const result = await work(connection);
      await connection.commit();
      connection.release();
      return result;
    } catch (error) {
      // A session that failed mid-transaction is not worth reusing.
      connection.destroy();
      throw error instanceof StrataError ? error : describeShardError(error, this.connections.shard(BACKFILL_CONTROL_SHARD));
    }
  }

  private async audit(connection: PoolConnection, at: Date, record: BackfillRecord, detail: Record<string, unknown>): Promise<void> {
    await connection.query('INSERT INTO strata_audit_log (at, actor, host, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)', [
      at,
      this.actor,
      this.host,
      'backfill.cancel',
      `backfill ${record.id}`,
      JSON.stringify({ runsOn: `${record.host} (pid ${record.pid})`, state: record.state, windowsDone: record.windowsDone, windowsTotal: record.windowsTotal, ...detail }),
    ]);
  }

  /**
   * Marks a running backfill `cancelling`, naming who asked, and writes the audit entry; the process running it
   * notices at its next check. False when the row was no longer running.
   */
  private async requestCancel(record: BackfillRecord): Promise<boolean> {
    const requested = await this.onControlShard(async (connection) => {
      const at = this.clock();
      const [result] = (await connection.query(`UPDATE ${BACKFILLS_TABLE} SET state = 'cancelling', error = ? WHERE id = ? AND state = 'running'`, [
        cancelRequestNote(this.actor).slice(0, 4000),
        record.id,
      ])) as unknown as [{ affectedRows: number }];
      if (Number(result.affectedRows) !== 1) return false;
      await this.audit(connection, at, record, {});
      return true;
    });
    if (requested) this.log.info(`backfill ${record.id}: cancel requested by ${this.actor}; it runs on ${record.host} (pid ${record.pid})`);
    return requested;
  }

  /** A backfill whose process is gone has no window in flight: it is marked cancelled here, unless it came back. */
  private async cancelInterrupted(record: BackfillRecord): Promise<BackfillRecord> {
    const error = `cancelled by ${this.actor}; its process (${record.host}, pid ${record.pid}) had stopped, so no window was in progress`;
    const cancelled = await this.onControlShard(async (connection) => {
      const at = this.clock();
      // Matching host, pid and the last heartbeat: a resume or a late heartbeat in between wins over this cancel.
      const [result] = (await connection.query(
        `UPDATE ${BACKFILLS_TABLE} SET state = 'cancelled', finished_at = ?, updated_at = ?, error = ?
          WHERE id = ? AND state IN ('running', 'cancelling') AND host = ? AND pid = ? AND updated_at = ?`,
        [at, at, error, record.id, record.host, record.pid, new Date(record.updatedAt)],
      )) as unknown as [{ affectedRows: number }];
      if (Number(result.affectedRows) !== 1) return false;
      await this.audit(connection, at, record, { interrupted: true });
      return true;
    });
    const now = await this.get(record.id);
    if (!cancelled) throw new StrataError(ErrorCode.BackfillNotRunning, `backfill ${record.id} changed while it was being cancelled (it is ${now.state} now); look again and retry`);
    this.log.info(`backfill ${record.id} was interrupted and is now cancelled by ${this.actor}`);
    return now;
  }

  /** Waits until another process has acted on a cancel request; takes over when that process turns out dead. */
  private async awaitStop(id: number): Promise<BackfillRecord> {
    const deadline = Date.now() + this.cancelWaitMs;
    for (;;) {
      const record = await this.get(id);
      if (record.state === 'interrupted') return this.cancelInterrupted(record);
      if (record.state !== 'cancelling' || Date.now() >= deadline) return record;
      await new Promise((resolve) => setTimeout(resolve, CANCEL_POLL_MS));
    }
  }

  /** Acts on a cancel request another process left on this backfill's row. */
  private async checkCancelRequest(id: number, active: ActiveBackfill): Promise<void> {
    if (active.controller.signal.aborted) return;
    try {
      const [row] = await this.connections.query<Array<{ state: string; error: string | null }>>(BACKFILL_CONTROL_SHARD, `SELECT state, error FROM ${BACKFILLS_TABLE} WHERE id = ?`, [id]);
      if (row?.state === 'cancelling') this.stop(active, cancelRequester(row.error) ?? 'another process');
    } catch (error) {
      this.log.debug(`could not look for a cancel request of backfill ${id}`, error);
    }
  }

  private assertOpen(): void {
    if (this.disposed) throw new StrataError(ErrorCode.Cancelled, 'the backfill service is shutting down');
  }

  /** Everything that needs no cluster: level, range, shards and the windows they make. */
  private check(input: BackfillRequestInput): CheckedRequest {
    const parsed = backfillRequestSchema.safeParse(input);
    if (!parsed.success) {
      const level = rollupLevelSchema.safeParse((input as { level?: unknown }).level);
      if (!level.success) throw new StrataError(ErrorCode.BackfillInvalid, `unknown level '${String((input as { level?: unknown }).level)}'; use hourly, daily or monthly`);
      throw new StrataError(ErrorCode.BackfillInvalid, parsed.error.issues.map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message}`).join('; '));
    }
    const request = parsed.data;
    const { from, to } = parseRange(request.from, request.to);
    const shards = resolveShards(request.shards, this.connections.shardCount);
    return { level: request.level, from, to, shards, cascade: request.cascade, steps: backfillSteps(request.level, from, to, request.cascade) };
  }

  private assertRunnable(plan: BackfillPlan): void {
    const [problem] = plan.problems;
    if (problem) throw new StrataError(problem.code as ErrorCodeValue, `shard ${problem.shard} cannot be planned, so nothing was started: ${problem.message}`);
    if (plan.refused.length > 0) {
      throw new StrataError(ErrorCode.BackfillSourcePruned, `nothing was started: ${plan.refused.map((range) => range.message).join('; ')}`);
    }
  }

  /**
   * Windows with estimated rows and time, and the refused ones. `firstStep` skips the windows a resumed backfill has
   * done, so a source pruned since they ran does not refuse it.
   */
  private async planChecked(request: CheckedRequest, firstStep = 0): Promise<BackfillPlan> {
    const now = this.clock();
    const levels = [...new Set(request.steps.map((step) => step.level))];
    const problems: BackfillPlan['problems'] = [];
    const rowsByWindow = new Map<string, number[]>();
    const estimates: Record<string, TimeEstimate> = {};
    for (const level of levels) {
      const ofLevel = request.steps.filter((step) => step.level === level);
      const [rollupPlan, history] = await Promise.all([
        this.rollup.plan(level, { from: ofLevel[0]!.start, to: ofLevel.at(-1)!.end }, { shards: request.shards }),
        this.rollup.runs({ limit: HISTORY_SAMPLES, level }),
      ]);
      estimates[level] = estimateFromHistory(
        level,
        history.filter((run) => run.outcome === 'ok' && run.durationMs !== null).map((run) => ({ rowsRead: run.rowsRead, durationMs: run.durationMs ?? 0 })),
      );
      for (const shard of rollupPlan.shards) {
        if (shard.problem) {
          if (!problems.some((known) => known.shard === shard.shard)) problems.push({ shard: shard.shard, ...shard.problem });
          continue;
        }
        for (const window of shard.windows) {
          const key = `${level}/${window.windowStart}`;
          rowsByWindow.set(key, [...(rowsByWindow.get(key) ?? []), window.estimatedSourceRows ?? 0]);
        }
      }
    }
    const retention = await this.retention();
    const refusedSteps = await this.prunedSteps(request, now, firstStep, problems, retention);
    const windows: BackfillWindow[] = request.steps.map((step) => {
      const rows = rowsByWindow.get(`${step.level}/${iso(step.start)}`) ?? [];
      return {
        level: step.level,
        windowStart: iso(step.start),
        windowEnd: iso(step.end),
        kind: step.kind,
        estimatedSourceRows: rows.reduce((sum, value) => sum + value, 0),
        estimatedMs: windowEstimateMs(rows, estimates[step.level]!),
      };
    });
    return {
      level: request.level,
      from: iso(request.from),
      to: iso(request.to),
      shards: request.shards,
      cascade: request.cascade,
      windows,
      refused: refusedRanges(refusedSteps, now, retention),
      estimates,
      estimatedSourceRows: windows.reduce((sum, window) => sum + window.estimatedSourceRows, 0),
      estimatedMs: windows.reduce((sum, window) => sum + window.estimatedMs, 0),
      problems,
    };
  }

  /**
   * The asked-for windows whose source retention has passed and whose source rows are gone on some shard. Rows that
   * are there (imported history) may still be rolled up, as runRange does.
   */
  private async prunedSteps(request: CheckedRequest, now: Date, firstStep: number, problems: BackfillPlan['problems'], retention: RetentionPolicy) {
    const candidates = request.steps.slice(firstStep).filter((step) => step.kind === 'range' && outsideSourceRetention(step, now, retention));
    if (candidates.length === 0) return [];
    const present = new Map<number, Set<number>>();
    await Promise.all(
      request.shards.map(async (shard) => {
        try {
          const rows = await this.connections.query<Array<{ start_epoch: number | string }>>(shard, presentSourceWindowsSql(request.level), [candidates[0]!.start, candidates.at(-1)!.end]);
          present.set(shard, new Set(rows.map((row) => Number(row.start_epoch) * 1000)));
        } catch (error) {
          if (!problems.some((known) => known.shard === shard)) problems.push({ shard, ...toFailure(error) });
        }
      }),
    );
    return candidates
      .map((step) => ({ ...step, shards: request.shards.filter((shard) => present.has(shard) && !present.get(shard)!.has(step.start.getTime())) }))
      .filter((step) => step.shards.length > 0);
  }

  /**
   * Runs `write` on the control shard while holding a named lock, after checking that no live backfill overlaps
   * this one; the lock makes two simultaneous starts see each other.
   */
  private async admit(request: CheckedRequest, write: (connection: PoolConnection) => Promise<number>, self?: number): Promise<number> {
    const connection = await this.controlConnection();
    let locked = false;
    try {
      const [[lock]] = (await connection.query('SELECT GET_LOCK(?, ?) AS got', [ADMISSION_LOCK, ADMISSION_WAIT_SECONDS])) as unknown as [Array<{ got: number | null }>];
      locked = Number(lock?.got) === 1;
      if (!locked) throw new StrataError(ErrorCode.BackfillOverlap, `another backfill is being started; try again in a moment`);
      const [rows] = (await connection.query(`SELECT * FROM ${BACKFILLS_TABLE} WHERE state IN ('running', 'cancelling')`)) as unknown as [BackfillRow[]];
      const span = affectedSpan(request.steps);
      for (const row of rows) {
        const other = this.toRecord(row);
        if (other.id === self || !LIVE_STATES.includes(other.state) || !span) continue;
        const otherSpan = affectedSpan(backfillSteps(other.level, new Date(other.from), new Date(other.to), other.cascade));
        if (otherSpan && spansOverlap({ ...span, shards: request.shards }, { ...otherSpan, shards: other.shards })) {
          throw new StrataError(
            ErrorCode.BackfillOverlap,
            `backfill ${other.id} (${other.level} ${other.from} – ${other.to}${other.cascade ? ' with cascade' : ''}, shards ${other.shards.join(',')}) is running on ${other.host} and rewrites some of the same windows; wait for it or cancel it`,
          );
        }
      }
      return await write(connection);
    } catch (error) {
      throw error instanceof StrataError ? error : describeShardError(error, this.connections.shard(BACKFILL_CONTROL_SHARD));
    } finally {
      if (locked) await connection.query('SELECT RELEASE_LOCK(?)', [ADMISSION_LOCK]).catch(() => {});
      connection.release();
    }
  }

  private launch(id: number, request: CheckedRequest, plan: BackfillPlan, firstStep: number): Promise<BackfillRun> {
    const active: ActiveBackfill = { controller: new AbortController() };
    const finished = this.execute(id, request, plan, firstStep, active).finally(() => this.active.delete(id));
    this.active.set(id, Object.assign(active, { finished }));
    return this.get(id).then((record) => ({ record, finished }));
  }

  private async execute(id: number, request: CheckedRequest, plan: BackfillPlan, firstStep: number, active: ActiveBackfill): Promise<BackfillOutcome> {
    const cancel = active.controller.signal;
    const started = performance.now();
    const stored = await this.get(id).catch(() => undefined);
    const progress = { done: firstStep, rowsRead: stored?.rowsRead ?? 0, rowsWritten: stored?.rowsWritten ?? 0 };
    const plannedMs = plan.windows.map((window) => window.estimatedMs);
    const results: BackfillWindowResult[] = [];
    const heartbeat = setInterval(() => {
      this.store(id, 'updated_at = ?', [this.clock()]);
    }, this.heartbeatMs);
    heartbeat.unref();
    let checking = false;
    const cancelWatch = setInterval(() => {
      if (checking) return;
      checking = true;
      void this.checkCancelRequest(id, active).finally(() => {
        checking = false;
      });
    }, this.cancelCheckMs);
    cancelWatch.unref();
    const emit = (kind: BackfillProgress['kind'], state: BackfillState, extra: Partial<BackfillProgress> = {}) => {
      const elapsedMs = Math.round(performance.now() - started);
      this.emit({
        backfillId: id,
        kind,
        state,
        windowsDone: progress.done,
        windowsTotal: request.steps.length,
        rowsRead: progress.rowsRead,
        rowsWritten: progress.rowsWritten,
        elapsedMs,
        estimatedRemainingMs: state === 'running' ? remainingMs(plannedMs, firstStep, progress.done, elapsedMs) : 0,
        ...extra,
      });
    };
    let state: BackfillState = 'done';
    let error: string | undefined;
    try {
      await runUnderLease(
        this.lease,
        this.log,
        'run-without-token',
        async (fencingToken, signal) => {
          for (let index = firstStep; index < request.steps.length; index += 1) {
            const step = request.steps[index]!;
            await this.checkCancelRequest(id, active);
            if (signal.aborted) throw signal.reason;
            const window = { level: step.level, windowStart: iso(step.start), windowEnd: iso(step.end) };
            emit('window-started', 'running', { window });
            const result = await this.runStep(step, request, fencingToken, signal);
            results.push(result);
            if (result.outcome === 'cancelled') throw signal.reason ?? new StrataError(ErrorCode.Cancelled, 'cancelled');
            if (result.outcome === 'failed') throw new StrataError(ErrorCode.ShardQueryFailed, `${step.level} window ${window.windowStart} failed: ${result.error ?? 'unknown error'}`);
            progress.done = index + 1;
            progress.rowsRead += result.rowsRead;
            progress.rowsWritten += result.rowsWritten;
            const next = request.steps[index + 1];
            await this.store(id, 'windows_done = ?, next_window_level = ?, next_window_start = ?, rows_read = ?, rows_written = ?, updated_at = ?', [
              progress.done,
              next?.level ?? null,
              next?.start ?? null,
              progress.rowsRead,
              progress.rowsWritten,
              this.clock(),
            ]);
            emit('window-finished', 'running', { window, skippedShards: result.skippedShards });
          }
        },
        cancel,
      );
    } catch (failure) {
      // A lost lease aborts the run too, but that is a failure to resume from, not a cancel.
      const cancelled = cancel.aborted;
      state = cancelled ? 'cancelled' : 'failed';
      error = cancelled ? `cancelled by ${active.cancelledBy ?? this.actor}; the window in progress was rolled back` : toFailure(failure).message;
      if (!cancelled) this.log.warn(`backfill ${id} failed`, failure);
    } finally {
      clearInterval(heartbeat);
      clearInterval(cancelWatch);
    }
    const finishedAt = this.clock();
    await this.store(id, 'state = ?, finished_at = ?, updated_at = ?, error = ?', [state, finishedAt, finishedAt, error?.slice(0, 4000) ?? null]);
    this.log.info(`backfill ${id} ${state} after window ${progress.done} of ${request.steps.length}${error ? `: ${error}` : ''}`);
    emit('finished', state, error ? { error } : {});
    const record = await this.get(id).catch(() => undefined);
    return { record: record ?? { ...(stored as BackfillRecord), state, windowsDone: progress.done, error: error ?? null }, windows: results };
  }

  /** One window on every shard of the backfill in parallel; a cascade window only where its source is complete. */
  private async runStep(step: BackfillStep, request: CheckedRequest, fencingToken: number | undefined, signal: AbortSignal): Promise<BackfillWindowResult> {
    const base = { level: step.level, windowStart: iso(step.start), windowEnd: iso(step.end) };
    let shards = request.shards;
    if (step.kind === 'cascade') {
      const watermarks = await this.rollup.watermarks();
      shards = request.shards.filter((shard) => {
        const ofShard = Object.fromEntries(watermarks.filter((row) => row.shard === shard).map((row) => [row.level, row.watermark ? new Date(row.watermark) : null]));
        return cascadeSourceComplete(step, ofShard, request.steps);
      });
    }
    const skippedShards = request.shards.filter((shard) => !shards.includes(shard));
    if (shards.length === 0) return { ...base, outcome: 'skipped', shards, skippedShards, rowsRead: 0, rowsWritten: 0 };
    const report: RollupReport = await this.rollup.runRange(step.level, step.start, step.end, { shards, trigger: 'backfill', fencingToken, signal });
    const windows = report.shards.flatMap((shard) => shard.windows);
    const rows = { rowsRead: windows.reduce((sum, window) => sum + window.rowsRead, 0), rowsWritten: windows.reduce((sum, window) => sum + window.rowsWritten, 0) };
    // `fenced` means the rows were written but a newer lease holder owns the watermark: the backfill's work is done.
    const written = report.shards.every((shard) => !shard.problem && shard.windows.length > 0 && shard.windows.every((window) => window.outcome === 'ok' || window.outcome === 'fenced'));
    if (written) return { ...base, outcome: 'ok', shards, skippedShards, ...rows };
    if (signal.aborted) return { ...base, outcome: 'cancelled', shards, skippedShards, ...rows };
    const problem = report.shards.map((shard) => shard.problem?.message ?? shard.windows.find((window) => window.error)?.error).find(Boolean);
    return { ...base, outcome: 'failed', shards, skippedShards, ...rows, error: problem ?? 'the window did not complete' };
  }

  private emit(progress: BackfillProgress): void {
    for (const listener of this.listeners) {
      try {
        listener(progress);
      } catch (error) {
        this.log.warn('a backfill progress listener failed', error);
      }
    }
  }

  /** Updates the backfill's row; a control shard that does not answer costs a resume, not the running backfill. */
  private async store(id: number, assignments: string, values: unknown[]): Promise<void> {
    try {
      await this.connections.query(BACKFILL_CONTROL_SHARD, `UPDATE ${BACKFILLS_TABLE} SET ${assignments} WHERE id = ?`, [...values, id]);
    } catch (error) {
      this.log.warn(`could not record the progress of backfill ${id}`, error);
    }
  }

  private toRecord(row: BackfillRow): BackfillRecord {
    const id = Number(row.id);
    const level = rollupLevelSchema.parse(row.level);
    const state = effectiveState(
      { id, state: row.state, host: row.host, pid: Number(row.pid), updatedAt: row.updated_at },
      { thisHost: this.host, runningHere: new Set(this.active.keys()), pidAlive, now: this.clock(), staleAfterMs: this.staleAfterMs },
    );
    return {
      id,
      level,
      from: iso(row.range_from),
      to: iso(row.range_to),
      shards: row.shards.split(',').filter(Boolean).map(Number),
      cascade: Number(row.cascade_up) === 1,
      state,
      windowsTotal: Number(row.windows_total),
      windowsDone: Number(row.windows_done),
      nextWindowLevel: row.next_window_level ? rollupLevelSchema.parse(row.next_window_level) : null,
      nextWindowStart: row.next_window_start ? iso(row.next_window_start) : null,
      rowsRead: Number(row.rows_read),
      rowsWritten: Number(row.rows_written),
      estimatedMs: Number(row.estimated_ms),
      createdBy: row.created_by,
      host: row.host,
      pid: Number(row.pid),
      createdAt: iso(row.created_at),
      startedAt: iso(row.started_at),
      updatedAt: iso(row.updated_at),
      finishedAt: row.finished_at ? iso(row.finished_at) : null,
      error: row.error,
    };
  }
}
