import type { BackfillPlan, BackfillProgress, BackfillRecord, BackfillState, BackfillWindowResult } from '../../shared/backfill';
import { ErrorCode, StrataError } from '../../shared/errors';
import { toFailure } from '../../shared/result';
import type { RollupReport } from '../../shared/rollup';
import { runUnderLease } from '../lease/exclusive';
import type { ClusterLease } from '../lease/lease';
import { Emitter } from '../lifecycle/emitter';
import type { ScopedLogger } from '../log';
import type { RollupService } from '../rollup/service';
import { cancelRequester, cascadeSourceComplete, remainingMs, type BackfillStep, type CheckedRequest } from './planner';
import type { BackfillStore } from './store';

/** What a finished (or stopped) run of a backfill did in this process. */
export interface BackfillOutcome {
  record: BackfillRecord;
  windows: BackfillWindowResult[];
}

/** One backfill to run from `firstStep` on: admitted and stored as running by this process. */
export interface BackfillJob {
  id: number;
  request: CheckedRequest;
  plan: BackfillPlan;
  firstStep: number;
}

export interface BackfillRunnerOptions {
  clock: () => Date;
  /** `user@host` of this process: who cancelled a backfill when no one else is named. */
  actor: string;
  /** How often a running backfill touches its row, so other hosts can tell it is alive. */
  heartbeatMs: number;
  /** How often a running backfill looks for a cancel request on its row (also at every window boundary). */
  cancelCheckMs: number;
  /** The stored record of a backfill, as the service shows it. */
  read(id: number): Promise<BackfillRecord>;
}

/**
 * A backfill running here. Its cancel goes one way: running, then aborted (by this process, or by a request
 * another process left on its row), then cancelled once the window in flight has rolled back.
 */
interface RunState {
  controller: AbortController;
  /** Who cancelled it (`user@host`), once someone has. */
  cancelledBy?: string;
}

type ActiveBackfill = RunState & { finished: Promise<BackfillOutcome> };

const iso = (at: Date) => at.toISOString();

/**
 * Runs backfills window by window, oldest first, under the cluster lease: one rollup window on all its shards at
 * a time, a checkpoint in its row after each, a heartbeat while it runs, and a watch for cancel requests.
 */
export class BackfillRunner {
  /** Every window started or finished, and the end of each backfill. */
  readonly progress: Emitter<BackfillProgress>;
  private readonly active = new Map<number, ActiveBackfill>();

  constructor(
    private readonly store: BackfillStore,
    private readonly rollup: RollupService,
    private readonly lease: ClusterLease,
    private readonly log: ScopedLogger,
    private readonly options: BackfillRunnerOptions,
  ) {
    this.progress = new Emitter(log, 'backfill progress');
  }

  /** The ids of the backfills this process runs now. */
  runningIds(): ReadonlySet<number> {
    return new Set(this.active.keys());
  }

  /** Starts the job in the background; the promise never rejects: a failure ends in state `failed` with its error. */
  start(job: BackfillJob): Promise<BackfillOutcome> {
    const run: RunState = { controller: new AbortController() };
    const finished = this.execute(job, run).finally(() => this.active.delete(job.id));
    this.active.set(job.id, Object.assign(run, { finished }));
    return finished;
  }

  /**
   * Aborts a backfill this process runs (the window in flight rolls back) and answers its end; undefined when it
   * does not run here.
   */
  cancel(id: number, by: string): Promise<BackfillOutcome> | undefined {
    const active = this.active.get(id);
    if (!active) return undefined;
    this.stop(active, by);
    return active.finished;
  }

  /** Cancels every backfill this process runs (they become resumable) and waits for them. */
  async stopAll(by: string): Promise<void> {
    for (const active of this.active.values()) this.stop(active, by);
    await Promise.allSettled([...this.active.values()].map((active) => active.finished));
  }

  private stop(active: RunState, by: string): void {
    if (active.controller.signal.aborted) return;
    active.cancelledBy = by;
    active.controller.abort(new StrataError(ErrorCode.Cancelled, `cancelled by ${by}`));
  }

  private async execute({ id, request, plan, firstStep }: BackfillJob, active: RunState): Promise<BackfillOutcome> {
    const { clock } = this.options;
    const cancel = active.controller.signal;
    const started = performance.now();
    const stored = await this.options.read(id).catch(() => undefined);
    const progress = { done: firstStep, rowsRead: stored?.rowsRead ?? 0, rowsWritten: stored?.rowsWritten ?? 0 };
    const plannedMs = plan.windows.map((window) => window.estimatedMs);
    const results: BackfillWindowResult[] = [];
    const stopTimers = this.startTimers(id, active);
    const emit = (kind: BackfillProgress['kind'], state: BackfillState, extra: Partial<BackfillProgress> = {}) => {
      const elapsedMs = Math.round(performance.now() - started);
      this.progress.emit({
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
            await this.store.checkpoint(id, { windowsDone: progress.done, next, rowsRead: progress.rowsRead, rowsWritten: progress.rowsWritten }, clock());
            emit('window-finished', 'running', { window, skippedShards: result.skippedShards });
          }
        },
        cancel,
      );
    } catch (failure) {
      // A lost lease aborts the run too, but that is a failure to resume from, not a cancel.
      const cancelled = cancel.aborted;
      state = cancelled ? 'cancelled' : 'failed';
      error = cancelled ? `cancelled by ${active.cancelledBy ?? this.options.actor}; the window in progress was rolled back` : toFailure(failure).message;
      if (!cancelled) this.log.warn(`backfill ${id} failed`, failure);
    } finally {
      stopTimers();
    }
    await this.store.finish(id, state, error, clock());
    this.log.info(`backfill ${id} ${state} after window ${progress.done} of ${request.steps.length}${error ? `: ${error}` : ''}`);
    emit('finished', state, error ? { error } : {});
    const record = await this.options.read(id).catch(() => undefined);
    return { record: record ?? { ...(stored as BackfillRecord), state, windowsDone: progress.done, error: error ?? null }, windows: results };
  }

  /** The heartbeat and the cancel-request watch of one running backfill; answers the function that stops both. */
  private startTimers(id: number, active: RunState): () => void {
    const heartbeat = setInterval(() => {
      void this.store.heartbeat(id, this.options.clock());
    }, this.options.heartbeatMs);
    heartbeat.unref();
    let checking = false;
    const cancelWatch = setInterval(() => {
      if (checking) return;
      checking = true;
      void this.checkCancelRequest(id, active).finally(() => {
        checking = false;
      });
    }, this.options.cancelCheckMs);
    cancelWatch.unref();
    return () => {
      clearInterval(heartbeat);
      clearInterval(cancelWatch);
    };
  }

  /** Acts on a cancel request another process left on this backfill's row. */
  private async checkCancelRequest(id: number, active: RunState): Promise<void> {
    if (active.controller.signal.aborted) return;
    try {
      const row = await this.store.cancelRequest(id);
      if (row?.state === 'cancelling') this.stop(active, cancelRequester(row.error) ?? 'another process');
    } catch (error) {
      this.log.debug(`could not look for a cancel request of backfill ${id}`, error);
    }
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
}
