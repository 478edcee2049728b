import { hostname } from 'node:os';
import { RESUMABLE_STATES, type BackfillPlan, type BackfillProgress, type BackfillRecord, type BackfillRequestInput, type TimeEstimate } from '../../shared/backfill';
import { ErrorCode, StrataError } from '../../shared/errors';
import { toFailure } from '../../shared/result';
import { DEFAULT_RETENTION, ROLLUP_LEVELS, type RetentionPolicy, type RollupLevel } from '../../shared/rollup';
import type { ClusterConnections } from '../cluster/connections';
import type { ClusterLease } from '../lease/lease';
import { osUser } from '../identity';
import type { ScopedLogger } from '../log';
import type { RollupService } from '../rollup/service';
import { periodStart, shiftPeriod } from '../schema/partitions';
import type { ClusterState } from '../state';
import {
  assertNoOverlap,
  assertRunnable,
  buildPlan,
  checkRequest,
  estimateFromHistory,
  heldWindowsSql,
  levelsHolding,
  LIVE_STATES,
  outsideSourceRetention,
  presentSourceWindowsSql,
  windowKey,
  type CheckedRequest,
  type LivenessCheck,
  type PlanInputs,
} from './planner';
import { BackfillRunner, type BackfillOutcome } from './runner';
import { BackfillStore } from './store';

export type { BackfillOutcome } from './runner';

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

const CANCEL_POLL_MS = 200;
const HISTORY_SAMPLES = 500;

/** Whether a process of this host exists: what tells a backfill of this host from one whose process died. */
function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The backfill service: checks and plans requests, admits them through the store and hands them to the runner;
 * cancels them here or, through their row, wherever they run.
 */
export class ClusterBackfillService implements BackfillService {
  private readonly host: string;
  private readonly actor: string;
  private readonly clock: () => Date;
  private readonly retention: () => Promise<RetentionPolicy>;
  private readonly staleAfterMs: number;
  private readonly cancelWaitMs: number;
  private readonly store: BackfillStore;
  private readonly runner: BackfillRunner;
  private disposed = false;

  constructor(
    private readonly connections: ClusterConnections,
    state: Pick<ClusterState, 'control' | 'audit'>,
    private readonly rollup: RollupService,
    lease: ClusterLease,
    private readonly log: ScopedLogger,
    options: BackfillServiceOptions = {},
  ) {
    this.host = (options.host ?? hostname()).slice(0, 255);
    this.actor = `${options.actor ?? osUser()}@${this.host}`.slice(0, 255);
    this.clock = options.clock ?? (() => new Date());
    const fixed = options.retention ?? { ...DEFAULT_RETENTION };
    this.retention = options.retentionSource ?? (async () => fixed);
    const heartbeatMs = options.heartbeatMs ?? 10_000;
    this.staleAfterMs = options.staleAfterMs ?? 6 * heartbeatMs;
    this.cancelWaitMs = options.cancelWaitMs ?? 60_000;
    this.store = new BackfillStore(state, { actor: this.actor, host: this.host, pid: process.pid }, log);
    this.runner = new BackfillRunner(this.store, rollup, lease, log, {
      clock: this.clock,
      actor: this.actor,
      heartbeatMs,
      cancelCheckMs: options.cancelCheckMs ?? Math.min(heartbeatMs, 2000),
      read: (id) => this.get(id),
    });
  }

  async plan(input: BackfillRequestInput): Promise<BackfillPlan> {
    return this.planChecked(checkRequest(input, this.connections.shardCount));
  }

  async start(input: BackfillRequestInput): Promise<BackfillRun> {
    this.assertOpen();
    const request = checkRequest(input, this.connections.shardCount);
    const plan = await this.planChecked(request);
    assertRunnable(plan);
    const now = this.clock();
    const id = await this.store.admit(this.liveness(), async (session, live) => {
      assertNoOverlap(request, live);
      return this.store.insert(session, request, plan.estimatedMs, now);
    });
    this.log.info(
      `backfill ${id}: ${request.level} ${request.from.toISOString()} – ${request.to.toISOString()} on shards ${request.shards.join(',')}${request.cascade ? ' with cascade' : ''}, ${request.steps.length} windows`,
    );
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
    const request = checkRequest({ level: stored.level, from: stored.from, to: stored.to, shards: stored.shards, cascade: stored.cascade }, this.connections.shardCount);
    if (request.steps.length !== stored.windowsTotal) {
      throw new StrataError(ErrorCode.BackfillNotResumable, `backfill ${id} was planned with ${stored.windowsTotal} windows but this version of Strata plans ${request.steps.length}; start a new one`);
    }
    const plan = await this.planChecked(request, stored.windowsDone);
    assertRunnable(plan);
    const now = this.clock();
    await this.store.admit(this.liveness(), async (session, live) => {
      assertNoOverlap(request, live, id);
      if (!(await this.store.claimForResume(session, stored, now))) throw new StrataError(ErrorCode.BackfillNotResumable, `backfill ${id} was resumed by someone else just now`);
    });
    this.log.info(`backfill ${id} resumed at window ${stored.windowsDone + 1} of ${stored.windowsTotal}`);
    return this.launch(id, request, plan, stored.windowsDone);
  }

  async cancel(id: number): Promise<BackfillRecord> {
    const local = this.runner.cancel(id, this.actor);
    if (local) {
      // Stopping comes first and does not wait for this: Ctrl-C must work even when the control shard does not answer.
      const audited = this.get(id)
        .then((record) => this.store.auditLocalCancel(record, this.clock()))
        .catch((error: unknown) => this.log.warn(`could not write the audit entry of cancelling backfill ${id}`, error));
      const { record } = await local;
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

  list(limit: number): Promise<BackfillRecord[]> {
    return this.store.list(limit, this.liveness());
  }

  get(id: number): Promise<BackfillRecord> {
    return this.store.get(id, this.liveness());
  }

  onProgress(listener: (progress: BackfillProgress) => void): () => void {
    return this.runner.progress.on(listener);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.runner.stopAll(`${this.actor} (Strata shut down)`);
    this.runner.progress.clear();
  }

  /** How this process tells a stored running backfill from one whose process is gone, as of now. */
  private liveness(): LivenessCheck {
    return { thisHost: this.host, runningHere: this.runner.runningIds(), pidAlive, now: this.clock(), staleAfterMs: this.staleAfterMs };
  }

  private notCancellable(record: BackfillRecord): StrataError {
    return new StrataError(
      ErrorCode.BackfillNotRunning,
      `backfill ${record.id} is ${record.state}${record.finishedAt ? ` since ${record.finishedAt}` : ''}; only a running or interrupted backfill can be cancelled`,
    );
  }

  /** Leaves a cancel request on the row of a backfill another process runs; false when it was no longer running. */
  private async requestCancel(record: BackfillRecord): Promise<boolean> {
    const requested = await this.store.requestCancel(record, this.clock());
    if (requested) this.log.info(`backfill ${record.id}: cancel requested by ${this.actor}; it runs on ${record.host} (pid ${record.pid})`);
    return requested;
  }

  /** A backfill whose process is gone has no window in flight: it is marked cancelled here, unless it came back. */
  private async cancelInterrupted(record: BackfillRecord): Promise<BackfillRecord> {
    const error = `cancelled by ${this.actor}; its process (${record.host}, pid ${record.pid}) had stopped, so no window was in progress`;
    const cancelled = await this.store.cancelInterrupted(record, error, this.clock());
    const now = await this.get(record.id);
    if (!cancelled) throw new StrataError(ErrorCode.BackfillNotRunning, `backfill ${record.id} changed while it was being cancelled (it is ${now.state} now); look again and retry`);
    this.log.info(`backfill ${record.id} was interrupted and is now cancelled by ${this.actor}`);
    return now;
  }

  /** Waits until another process has acted on a cancel request; takes over when that process turns out dead. */
  private async awaitStop(id: number): Promise<BackfillRecord> {
    // Real time, not the injected clock: this is how long a person waits, whatever time the jobs think it is.
    const deadline = Date.now() + this.cancelWaitMs;
    for (;;) {
      const record = await this.get(id);
      if (record.state === 'interrupted') return this.cancelInterrupted(record);
      if (record.state !== 'cancelling' || Date.now() >= deadline) return record;
      await new Promise((resolve) => setTimeout(resolve, CANCEL_POLL_MS));
    }
  }

  private assertOpen(): void {
    if (this.disposed) throw new StrataError(ErrorCode.Cancelled, 'the backfill service is shutting down');
  }

  private async launch(id: number, request: CheckedRequest, plan: BackfillPlan, firstStep: number): Promise<BackfillRun> {
    const finished = this.runner.start({ id, request, plan, firstStep });
    return { record: await this.get(id), finished };
  }

  /**
   * Windows with estimated rows and time, and the refused ones. `firstStep` skips the windows a resumed backfill has
   * done, so a source pruned since they ran does not refuse it.
   */
  private async planChecked(request: CheckedRequest, firstStep = 0): Promise<BackfillPlan> {
    const now = this.clock();
    const levels = [...new Set(request.steps.map((step) => step.level))];
    const problems: PlanInputs['problems'] = [];
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
          const key = windowKey(level, window.windowStart);
          rowsByWindow.set(key, [...(rowsByWindow.get(key) ?? []), window.estimatedSourceRows ?? 0]);
        }
      }
    }
    const retention = await this.retention();
    const refusedSteps = await this.prunedSteps(request, now, firstStep, problems, retention);
    return buildPlan(request, { rowsByWindow, estimates, refusedSteps, problems, retention, now });
  }

  /**
   * The asked-for windows whose source retention has passed and whose source rows are gone on some shard. Rows that
   * are there (imported history) may still be rolled up, as runRange does.
   */
  private async prunedSteps(request: CheckedRequest, now: Date, firstStep: number, problems: PlanInputs['problems'], retention: RetentionPolicy): Promise<PlanInputs['refusedSteps']> {
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
    const missing = candidates
      .map((step) => ({ ...step, shards: request.shards.filter((shard) => present.has(shard) && !present.get(shard)!.has(step.start.getTime())) }))
      .filter((step) => step.shards.length > 0);
    if (missing.length === 0) return [];
    const held = await this.heldWindows(request, missing);
    return missing.map((step) => ({ ...step, heldBy: held ? levelsHolding(step, step.shards, held) : undefined }));
  }

  /**
   * Which windows each level's own table holds over the refused span, per shard: tells a source that was pruned
   * (a coarser level still holds it) from a range that never held rows. Undefined when a shard cannot be read.
   */
  private async heldWindows(request: CheckedRequest, steps: ReadonlyArray<{ start: Date; end: Date }>): Promise<Map<RollupLevel, Map<number, Set<number>>> | undefined> {
    const levels = ROLLUP_LEVELS.slice(ROLLUP_LEVELS.indexOf(request.level));
    // Widened to whole months, so the coarsest level's window holding the first and last step is included.
    const from = periodStart(steps[0]!.start, 'month');
    const to = shiftPeriod(steps.at(-1)!.end, 'month', 1);
    const held = new Map<RollupLevel, Map<number, Set<number>>>();
    try {
      for (const level of levels) {
        const perShard = new Map<number, Set<number>>();
        for (const shard of request.shards) {
          const rows = await this.connections.query<Array<{ start_epoch: number | string }>>(shard, heldWindowsSql(level), [from, to]);
          perShard.set(shard, new Set(rows.map((row) => Number(row.start_epoch) * 1000)));
        }
        held.set(level, perShard);
      }
    } catch {
      return undefined;
    }
    return held;
  }
}
