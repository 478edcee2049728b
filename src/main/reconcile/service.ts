import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ReconcileLevel, ReconcileReport, ReconcileRequest, ReconcileRun, ReconcileRunHistory, ShardReconcile } from '../../shared/reconcile';
import { DEFAULT_RETENTION, type RetentionPolicy, type RunTrigger } from '../../shared/rollup';
import { describeShardError, type ClusterConnections, type ShardHandle } from '../cluster/connections';
import { osUser } from '../identity';
import { runUnderLease } from '../lease/exclusive';
import type { ClusterLease } from '../lease/lease';
import { asProblem } from '../lifecycle/problem';
import { WorkTracker } from '../lifecycle/work-tracker';
import type { ScopedLogger } from '../log';
import type { RollupService } from '../rollup/service';
import { readWatermarks } from '../rollup/watermark';
import { COMMITTED_ROLLUP_OUTCOMES, type ClusterState } from '../state';
import {
  checkRange,
  compareLevel,
  describeLevels,
  levelRange,
  levelTotalsSql,
  RECONCILE_ORDER,
  shardOutcome,
  sourceTotalsSql,
  totalsByWindow,
  windowsAbove,
  windowsToReRoll,
  type Statement,
} from './planner';

export interface ReconcileRunOptions extends ReconcileRequest {
  trigger: RunTrigger;
  /** The lease token the re-rolls run under; none for a manual run beside a scheduler that holds the lease. */
  fencingToken?: number;
  signal?: AbortSignal;
}

/**
 * Finds late data and rolls it up: compares each level's page views with its source over the closed windows
 * retention still holds, and re-rolls the windows that differ, then the days and months above them.
 */
export interface ReconcileService {
  /** The dry run: what differs and what would be re-rolled; nothing is written. */
  plan(request?: ReconcileRequest): Promise<ReconcileReport>;
  /** Re-rolls what differs, records each shard's findings in the run history, and audits a manual run. */
  run(options: ReconcileRunOptions): Promise<ReconcileReport>;
  /**
   * A manual run (`strata reconcile`, the console): under the cluster lease when it is free, else beside the
   * scheduler that holds it, as a ranged rollup runs; the re-rolled windows are closed, so no watermark moves.
   */
  runManually(request: ReconcileRequest, signal?: AbortSignal): Promise<ReconcileReport>;
  /** The latest reconciliations of every shard, newest first. */
  runs(limit?: number): Promise<ReconcileRunHistory>;
  dispose(): Promise<void>;
}

export interface ReconcileServiceOptions {
  clock?: () => Date;
  host?: string;
  actor?: string;
  /** The retention policy stored in the cluster (the composition root passes the retention service's). */
  retentionSource?: () => Promise<RetentionPolicy>;
}

interface Context {
  runId: string;
  now: Date;
  dryRun: boolean;
  retention: RetentionPolicy;
  range?: { from: Date; to: Date };
  options?: ReconcileRunOptions;
}

interface RunRow {
  id: number;
  run_id: string | null;
  shard_index: number | null;
  trigger_kind: string;
  host: string;
  started_at: Date;
  outcome: string;
  detail: string | null;
  error: string | null;
}

type TotalsRow = { w: number | string; pv: number | string };

export class ClusterReconcileService implements ReconcileService {
  private readonly clock: () => Date;
  private readonly host: string;
  private readonly actor: string;
  private readonly retentionSource: () => Promise<RetentionPolicy>;
  private readonly work = new WorkTracker('reconcile');

  constructor(
    private readonly connections: ClusterConnections,
    private readonly state: Pick<ClusterState, 'audit' | 'history'>,
    private readonly rollup: Pick<RollupService, 'runRange'>,
    private readonly lease: ClusterLease,
    private readonly log: ScopedLogger,
    options: ReconcileServiceOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.host = (options.host ?? hostname()).slice(0, 255);
    this.actor = (options.actor ?? osUser()).slice(0, 255);
    this.retentionSource = options.retentionSource ?? (async () => ({ ...DEFAULT_RETENTION }));
  }

  plan(request: ReconcileRequest = {}): Promise<ReconcileReport> {
    return this.execute(request, true);
  }

  run(options: ReconcileRunOptions): Promise<ReconcileReport> {
    return this.execute(options, false, options);
  }

  runManually(request: ReconcileRequest, signal?: AbortSignal): Promise<ReconcileReport> {
    return runUnderLease(this.lease, this.log, 'run-without-token', (fencingToken, leaseSignal) => this.run({ ...request, trigger: 'manual', fencingToken, signal: leaseSignal }), signal);
  }

  runs(limit = 20): Promise<ReconcileRunHistory> {
    return this.work.track(async () => {
      const select = {
        sql: `SELECT id, run_id, shard_index, trigger_kind, host, started_at, outcome, detail, error
                FROM strata_job_runs WHERE job = 'reconcile' ORDER BY started_at DESC, id DESC LIMIT ?`,
        params: [],
      };
      const read = await this.state.history.read(select, limit, (row: RunRow, readFrom): ReconcileRun => {
        const shard = row.shard_index ?? readFrom.index;
        return {
          id: Number(row.id),
          runId: row.run_id,
          shard,
          shardName: this.state.history.shardName(shard),
          trigger: row.trigger_kind,
          host: row.host,
          startedAt: row.started_at.toISOString(),
          outcome: row.outcome,
          detail: row.detail,
          error: row.error,
        };
      });
      return { runs: read.records, unreadShards: read.unread };
    });
  }

  dispose(): Promise<void> {
    return this.work.dispose();
  }

  private execute(request: ReconcileRequest, dryRun: boolean, options?: ReconcileRunOptions): Promise<ReconcileReport> {
    let range: { from: Date; to: Date } | undefined;
    let targets: ShardHandle[];
    try {
      range = checkRange(request.from, request.to);
      targets = request.shards ? [...new Set(request.shards)].map((index) => this.connections.shard(index)) : [...this.connections.shards];
    } catch (error) {
      return Promise.reject(error);
    }
    return this.work.track(async () => {
      const warnings: string[] = [];
      let retention: RetentionPolicy;
      try {
        retention = await this.retentionSource();
      } catch (error) {
        // Safe: a window whose source is short is never re-rolled, so a too-long retention only lists more of them.
        retention = { ...DEFAULT_RETENTION };
        warnings.push(`could not read the stored retention policy (${asProblem(error).message}); compared over the default retention`);
      }
      const context: Context = { runId: randomUUID(), now: this.clock(), dryRun, retention, range, options };
      const shards = await Promise.all(targets.map((handle) => this.reconcileShard(handle, context)));
      const report: ReconcileReport = {
        runId: context.runId,
        checkedAt: context.now.toISOString(),
        dryRun,
        trigger: options?.trigger ?? 'manual',
        ok: shards.every((shard) => shard.outcome !== 'failed' && shard.outcome !== 'unrepaired'),
        warnings,
        shards,
      };
      if (!dryRun && report.trigger === 'manual') {
        await this.state.audit.writeBestEffort({
          at: this.clock(),
          actor: this.actor,
          host: this.host,
          action: 'reconcile.run',
          target: shards.map((shard) => shard.shardName).join(',') || 'none',
          detail: shards.map((shard) => `${shard.shardName} ${shard.outcome}${shard.problem ? ` (${shard.problem.message})` : ''}: ${describeLevels(shard.levels)}`).join(' | '),
        });
      }
      return report;
    });
  }

  /** Level by level, finest first, so a re-rolled hour is in the hourly rows its day is then compared with. */
  private async reconcileShard(handle: ShardHandle, context: Context): Promise<ShardReconcile> {
    const startedAt = this.clock();
    const levels: ReconcileLevel[] = [];
    const base = { shard: handle.index, shardName: handle.label };
    let report: ShardReconcile;
    try {
      const query = <T>(statement: Statement) => this.connections.query<T>(handle.index, statement.sql, statement.params);
      const watermarks = await readWatermarks((sql, params) => this.connections.query(handle.index, sql, params));
      let cascade = new Set<number>();
      for (const level of RECONCILE_ORDER) {
        const watermark = watermarks.find((stored) => stored.level === level)?.watermark ?? null;
        const range = levelRange(level, context.now, context.retention, watermark, context.range);
        if ('note' in range) {
          levels.push({ level, windowsChecked: 0, windows: [], note: range.note });
          cascade = new Set();
          continue;
        }
        const [source, stored] = await Promise.all([query<TotalsRow[]>(sourceTotalsSql(level, range.from, range.to)), query<TotalsRow[]>(levelTotalsSql(level, range.from, range.to))]);
        const compared = compareLevel(level, range, totalsByWindow(source), totalsByWindow(stored), cascade, context.dryRun);
        levels.push(compared);
        if (!context.dryRun) await this.reRoll(handle, compared, context);
        const carried = windowsToReRoll(compared).map((window) => Date.parse(window.windowStart));
        cascade = windowsAbove(level, carried);
      }
      report = { ...base, outcome: shardOutcome(levels, context.dryRun, false), levels };
    } catch (error) {
      const failure = describeShardError(error, handle);
      this.log.warn(`reconciliation of ${handle.label} failed`, failure);
      report = { ...base, outcome: 'failed', problem: asProblem(failure), levels };
    }
    if (!context.dryRun) await this.record(handle, context, startedAt, report);
    return report;
  }

  /** Re-rolls the level's differing windows one by one, so one that fails or is fenced does not hold back the rest. */
  private async reRoll(handle: ShardHandle, compared: ReconcileLevel, context: Context): Promise<void> {
    const options = context.options!;
    for (const window of windowsToReRoll(compared)) {
      if (options.signal?.aborted) {
        window.action = 'failed';
        window.error = 'cancelled before this window was re-rolled';
        continue;
      }
      try {
        const report = await this.rollup.runRange(compared.level, new Date(window.windowStart), new Date(window.windowEnd), {
          shards: [handle.index],
          trigger: options.trigger,
          fencingToken: options.fencingToken,
          signal: options.signal,
          now: context.now,
        });
        const shard = report.shards[0];
        const result = shard?.windows[0];
        if (result && (COMMITTED_ROLLUP_OUTCOMES as readonly string[]).includes(result.outcome)) continue;
        window.action = 'failed';
        window.error = result?.error ?? shard?.problem?.message ?? 'the window was not rolled up';
      } catch (error) {
        window.action = 'failed';
        window.error = asProblem(error).message;
      }
    }
  }

  private async record(handle: ShardHandle, context: Context, startedAt: Date, report: ShardReconcile): Promise<void> {
    const compared = report.levels.filter((level) => level.from && level.to);
    const starts = compared.map((level) => Date.parse(level.from!));
    const ends = compared.map((level) => Date.parse(level.to!));
    await this.state.history.record({
      job: 'reconcile',
      level: null,
      shard: handle.index,
      windowStart: starts.length > 0 ? new Date(Math.min(...starts)) : null,
      windowEnd: ends.length > 0 ? new Date(Math.max(...ends)) : null,
      trigger: context.options?.trigger ?? 'manual',
      host: this.host,
      runId: context.runId,
      startedAt,
      finishedAt: this.clock(),
      outcome: report.outcome,
      fencingToken: context.options?.fencingToken ?? null,
      detail: describeLevels(report.levels),
      error: report.problem?.message ?? null,
    });
  }
}
