import { createTask, type ScheduledTask } from 'node-cron';
import { hostname } from 'node:os';
import { ErrorCode, StrataError } from '../../shared/errors';
import { toFailure } from '../../shared/result';
import { SCHEDULED_JOBS, type JobName, type RunTrigger, type ScheduleEntry, type ScheduleList, type ScheduleSetRequest } from '../../shared/schedule';
import { LeaseKeeper, type LeaseLossReason } from '../lease/keeper';
import type { ClusterLease, LeaseGrant } from '../lease/lease';
import { osUser } from '../identity';
import { Emitter } from '../lifecycle/emitter';
import type { ScopedLogger } from '../log';
import type { ClusterState } from '../state';
import type { JobHandlers, JobResult } from './jobs';
import {
  applyChange,
  assertJobName,
  assertValidCron,
  describeChange,
  effectiveSchedules,
  reconcileTasks,
  SCHEDULE_TIME_ZONE,
  SCHEDULES_TABLE,
  withNextRuns,
  type EffectiveSchedule,
  type StoredSchedule,
} from './planner';

/** How often a running scheduler re-reads the schedules table, so edits made elsewhere take effect. */
export const DEFAULT_SCHEDULE_REFRESH_MS = 30_000;

/** One finished (or skipped) job run, as the agent prints it. */
export interface SchedulerRun {
  job: JobName;
  trigger: RunTrigger;
  fencingToken: number;
  startedAt: string;
  durationMs: number;
  outcome: 'ok' | 'failed' | 'aborted' | 'skipped';
  summary: string;
}

/** What a running scheduler reports to its host. */
export type SchedulerEvent =
  | { kind: 'lease-acquired'; token: number }
  | { kind: 'lease-lost'; token: number; reason: LeaseLossReason }
  | { kind: 'run'; run: SchedulerRun };

/**
 * Schedules stored on the control shard, and the scheduler that runs them under the cluster lease.
 * Creating the service starts nothing: a host that should schedule (the agent, the console) calls start().
 */
export interface SchedulerService {
  list(): Promise<ScheduleList>;
  /** Validates and stores a change, writes the audit log, and re-arms this process's cron tasks if running. */
  set(request: ScheduleSetRequest): Promise<ScheduleEntry>;
  /** Arms the cron tasks and starts trying for the lease; the first try has finished when this resolves. */
  start(): Promise<void>;
  /** Stops the cron tasks, aborts the current run and waits for it, then releases the lease. */
  stop(): Promise<void>;
  /** The lease this scheduler holds, if any. */
  holding(): LeaseGrant | undefined;
  onEvent(listener: (event: SchedulerEvent) => void): () => void;
  /** Resolves once no run is queued or running. */
  idle(): Promise<void>;
  dispose(): Promise<void>;
}

export interface SchedulerOptions {
  /** The instant jobs treat as now; tests move it to simulate an outage. */
  clock?: () => Date;
  /** Written into the schedules table and the audit log; the OS user and host name by default. */
  actor?: string;
  host?: string;
  leaseTickMs?: number;
  scheduleRefreshMs?: number;
}

interface ArmedTask {
  cron: string;
  task: ScheduledTask;
}

/** The parts of the cluster's shared state the scheduler uses: the schedules table and the audit log. */
export type SchedulerState = Pick<ClusterState, 'control' | 'audit'>;

const SELECT_SCHEDULES = `SELECT job, cron, enabled, updated_at, updated_by FROM ${SCHEDULES_TABLE}`;

/** node-cron's warnings and errors into our log, instead of its own console output. */
function cronLogger(log: ScopedLogger) {
  return {
    info: (message: string) => log.debug(message),
    warn: (message: string) => log.warn(message),
    error: (message: string | Error, error?: Error) => log.error(String(message), error),
    debug: (message: string | Error, error?: Error) => log.debug(String(message), error),
  };
}

export class ClusterScheduler implements SchedulerService {
  private readonly clock: () => Date;
  private readonly actor: string;
  private readonly host: string;
  private readonly refreshMs: number;
  private readonly keeper: LeaseKeeper;
  private readonly events: Emitter<SchedulerEvent>;
  private readonly armed = new Map<JobName, ArmedTask>();
  private schedules: EffectiveSchedule[] = effectiveSchedules([]);
  private pending: Array<{ job: JobName; trigger: RunTrigger }> = [];
  private draining: Promise<void> | undefined;
  private currentRun: AbortController | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private running = false;
  private disposed = false;

  /** `state` comes from the composition root (a test's second console builds its own on its own connections). */
  constructor(
    private readonly state: SchedulerState,
    private readonly lease: ClusterLease,
    private readonly jobs: JobHandlers,
    private readonly log: ScopedLogger,
    options: SchedulerOptions = {},
  ) {
    this.events = new Emitter(log, 'scheduler');
    this.clock = options.clock ?? (() => new Date());
    this.host = (options.host ?? hostname()).slice(0, 255);
    this.actor = (options.actor ?? osUser()).slice(0, 255);
    this.refreshMs = options.scheduleRefreshMs ?? DEFAULT_SCHEDULE_REFRESH_MS;
    this.keeper = new LeaseKeeper(lease, {
      tickMs: options.leaseTickMs,
      log,
      listener: { onAcquired: (grant) => this.leaseAcquired(grant), onLost: (grant, reason) => this.leaseLost(grant, reason) },
    });
  }

  async list(): Promise<ScheduleList> {
    const rows = await this.state.control.query<StoredSchedule[]>(SELECT_SCHEDULES);
    return { schedules: effectiveSchedules(rows).map((schedule) => withNextRuns(schedule)) };
  }

  async set(request: ScheduleSetRequest): Promise<ScheduleEntry> {
    assertJobName(request.job);
    if (request.cron !== undefined) assertValidCron(request.cron);
    const job = request.job;
    const after = await this.state.control.transaction(async (session) => {
      // The row lock orders concurrent edits of one job, so each audit entry's "from" is what it really replaced.
      const rows = await session.query<StoredSchedule[]>(`${SELECT_SCHEDULES} WHERE job = ? FOR UPDATE`, [job]);
      const before = effectiveSchedules(rows).find((schedule) => schedule.job === job) as EffectiveSchedule;
      const change = applyChange(before, request);
      const at = this.clock();
      const changedBy = `${this.actor}@${this.host}`.slice(0, 255);
      await session.query(
        `INSERT INTO ${SCHEDULES_TABLE} (job, cron, enabled, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE cron = VALUES(cron), enabled = VALUES(enabled), updated_at = VALUES(updated_at), updated_by = VALUES(updated_by)`,
        [job, change.cron, change.enabled ? 1 : 0, at, changedBy],
      );
      await this.state.audit.write({ at, actor: this.actor, host: this.host, action: 'schedule.set', target: job, detail: describeChange(before, change) }, session);
      return { ...before, ...change, isDefault: false, changedBy, changedAt: at.toISOString() };
    });
    this.log.info(`schedule of ${job} set to "${after.cron}" (${after.enabled ? 'enabled' : 'disabled'}) by ${after.changedBy}`);
    if (this.running) await this.refreshSchedules();
    return withNextRuns(after);
  }

  async start(): Promise<void> {
    if (this.disposed) throw new StrataError(ErrorCode.Cancelled, 'the scheduler has been stopped');
    if (this.running) return;
    this.running = true;
    await this.refreshSchedules();
    await this.keeper.start();
    this.scheduleRefresh();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.refreshTimer);
    for (const job of [...this.armed.keys()]) this.disarm(job);
    this.pending = [];
    this.currentRun?.abort(new StrataError(ErrorCode.Cancelled, 'the scheduler is stopping'));
    await this.draining;
    await this.keeper.stop();
  }

  holding(): LeaseGrant | undefined {
    return this.keeper.current();
  }

  onEvent(listener: (event: SchedulerEvent) => void): () => void {
    return this.events.on(listener);
  }

  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  async dispose(): Promise<void> {
    await this.stop();
    this.disposed = true;
    this.events.clear();
  }

  private leaseAcquired(grant: LeaseGrant): void {
    this.events.emit({ kind: 'lease-acquired', token: grant.holder.token });
    // Whatever was missed while no scheduler (or another one) held the lease runs first, oldest window first.
    for (const schedule of this.schedules) if (schedule.enabled) this.enqueue(schedule.job, 'catch-up');
  }

  private leaseLost(grant: LeaseGrant, reason: LeaseLossReason): void {
    this.pending = [];
    if (reason !== 'stopped') this.currentRun?.abort(new StrataError(ErrorCode.LeaseLost, `lost the scheduler lease (token ${grant.holder.token})`));
    this.events.emit({ kind: 'lease-lost', token: grant.holder.token, reason });
  }

  private scheduleRefresh(): void {
    this.refreshTimer = setTimeout(() => {
      void this.refreshSchedules().finally(() => {
        if (this.running) this.scheduleRefresh();
      });
    }, this.refreshMs);
  }

  /** Re-reads the schedules and re-arms the cron tasks that changed; keeps the current ones when shard 0 is down. */
  private async refreshSchedules(): Promise<void> {
    try {
      const rows = await this.state.control.query<StoredSchedule[]>(SELECT_SCHEDULES);
      this.schedules = effectiveSchedules(rows);
    } catch (error) {
      this.log.warn('could not read the schedules; keeping the current ones', error);
    }
    if (!this.running) return;
    const armedCrons = new Map([...this.armed].map(([job, armed]) => [job, armed.cron]));
    const { start, stop } = reconcileTasks(armedCrons, this.schedules);
    for (const job of stop) this.disarm(job);
    for (const { job, cron } of start) this.arm(job, cron);
  }

  private arm(job: JobName, cron: string): void {
    try {
      const task = createTask(cron, () => this.tick(job), { timezone: SCHEDULE_TIME_ZONE, name: `strata-${job}`, logger: cronLogger(this.log) });
      void task.start();
      this.armed.set(job, { cron, task });
      this.log.info(`${job} scheduled at "${cron}" (UTC)`);
    } catch (error) {
      // Only a hand-edited row can hold an invalid expression; that job waits until someone fixes it.
      this.log.error(`${job}: cannot schedule "${cron}"`, error);
    }
  }

  private disarm(job: JobName): void {
    const armed = this.armed.get(job);
    if (!armed) return;
    this.armed.delete(job);
    void armed.task.destroy();
  }

  private tick(job: JobName): void {
    if (!this.keeper.current()) {
      this.log.debug(`${job}: tick ignored, another scheduler holds the lease`);
      return;
    }
    this.enqueue(job, 'schedule');
  }

  /** Runs go one at a time; a job already waiting is not queued twice, since one run does every due window. */
  private enqueue(job: JobName, trigger: RunTrigger): void {
    if (!this.running || this.pending.some((entry) => entry.job === job)) return;
    this.pending.push({ job, trigger });
    this.pending.sort((a, b) => jobOrder(a.job) - jobOrder(b.job));
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    for (let next = this.pending.shift(); next && this.running; next = this.pending.shift()) {
      await this.runJob(next.job, next.trigger);
    }
  }

  private async runJob(job: JobName, trigger: RunTrigger): Promise<void> {
    const grant = this.keeper.current();
    if (!grant) return;
    const startedAt = this.clock();
    const started = performance.now();
    const report = (outcome: SchedulerRun['outcome'], summary: string) => {
      const run: SchedulerRun = { job, trigger, fencingToken: grant.holder.token, startedAt: startedAt.toISOString(), durationMs: Math.round(performance.now() - started), outcome, summary };
      const line = `${job} (${trigger}, token ${run.fencingToken}): ${outcome}, ${summary}`;
      if (outcome === 'ok' || outcome === 'skipped') this.log.info(line);
      else this.log.warn(line);
      this.events.emit({ kind: 'run', run });
    };
    const handler = this.jobs[job];
    if (!handler) {
      report('skipped', 'this build has no handler for the job');
      return;
    }
    const controller = new AbortController();
    this.currentRun = controller;
    try {
      let fenced = false;
      const result: JobResult = await handler({ trigger, fencingToken: grant.holder.token, signal: controller.signal, now: startedAt, fenced: () => (fenced = true) });
      report(controller.signal.aborted ? 'aborted' : result.ok ? 'ok' : 'failed', result.summary);
      // A new token comes with a new catch-up (onAcquired), which re-runs the fenced windows under it.
      if (fenced && !controller.signal.aborted) await this.keeper.retoken(grant);
    } catch (error) {
      this.log.debug(`${job} failed`, error);
      report(controller.signal.aborted ? 'aborted' : 'failed', toFailure(error).message);
    } finally {
      this.currentRun = undefined;
    }
  }
}

function jobOrder(job: JobName): number {
  return SCHEDULED_JOBS.findIndex((definition) => definition.job === job);
}
