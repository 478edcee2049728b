import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Unsubscribe } from '../../shared/api';
import { ErrorCode, StrataError, isStrataError } from '../../shared/errors';
import type {
  AppliedStatement,
  PartitionApplyEvent,
  PartitionApplyReport,
  PartitionInfo,
  PartitionListReport,
  PartitionPlanReport,
  PartitionWarning,
  ShardPartitionApplyResult,
  ShardPartitions,
  ShardPlan,
  TablePartitions,
  TablePlanReport,
} from '../../shared/partitions';
import { describeShardError, type ClusterConnections, type ShardHandle, type ShardSession } from '../cluster/connections';
import { readPartitionMetadata, type MetadataQuery, type PartitionMetadata } from '../cluster/partition-metadata';
import type { ShardActivityRegistry } from '../conflicts/registry';
import { osUser } from '../identity';
import { Emitter } from '../lifecycle/emitter';
import { asProblem } from '../lifecycle/problem';
import { WorkTracker } from '../lifecycle/work-tracker';
import type { ScopedLogger } from '../log';
import type { MaintenanceRunEntry } from '../retention/runs';
import { withNamedLock, type ClusterState } from '../state';
import type { RunTrigger } from '../../shared/rollup';
import { PARTITION_SCHEMES, type PartitionedTable } from '../schema/partitions';
import { KeepAheadSettings } from './keep-ahead';
import { lockSkipError, withShortLockWait } from './metadata-lock';
import { boundToDate, planHistoryRange, planTable, validateHistoryRange, validateKeepAhead, type ExistingPartition, type KeepAheadOptions, type TablePlan } from './planner';

/** Server-wide named lock: two consoles reorganising the same pmax at once would make the second one fail. */
export const PARTITION_LOCK_NAME = 'strata_partitions';
export const PARTITION_LOCK_WAIT_SECONDS = 10;

const MANAGED_TABLES = Object.keys(PARTITION_SCHEMES) as PartitionedTable[];

export type { AppliedStatement, PartitionApplyEvent, PartitionApplyReport, PartitionPlanReport, ShardPartitionApplyResult, ShardPlan, TablePlanReport };

export interface PartitionApplyOptions {
  onProgress?: (event: PartitionApplyEvent) => void;
  /** Shard indexes to maintain; all shards when absent. An unknown index refuses the whole run. */
  shards?: number[];
  /** What started the run, for the run history; manual when absent. */
  trigger?: RunTrigger;
}

/** Lists, plans and adds the future partitions of the analytics tables on every shard. */
export interface PartitionService {
  /** How far ahead each table keeps partitions, stored in the cluster. */
  readonly settings: KeepAheadSettings;
  /** Every shard's partitions, or only the shards given. */
  list(options?: { exact?: boolean; shards?: number[] }): Promise<PartitionListReport>;
  plan(options?: { shards?: number[] }): Promise<PartitionPlanReport>;
  /** Skips (outcome `blocked`) a shard on which a conflicting job such as a backup runs; the others are still done. */
  apply(options?: PartitionApplyOptions): Promise<PartitionApplyReport>;
  /** The SQL that adds partitions for older history below the first partition; refuses an empty or overlapping range. */
  planHistory(request: HistoryRangeRequest): Promise<PartitionPlanReport>;
  /** Runs it on every shard (or the ones named) after planning them all: a range any shard refuses changes none. */
  addHistory(request: HistoryRangeRequest & Omit<PartitionApplyOptions, 'shards'>): Promise<PartitionApplyReport>;
  /** Progress of every apply this process runs, whoever started it. */
  onProgress(listener: (event: PartitionApplyEvent) => void): Unsubscribe;
  /** Waits for running work to finish; afterwards every call refuses to start. */
  dispose(): Promise<void>;
}

function describeShardApply(shard: ShardPartitionApplyResult): string {
  const added = shard.statements.filter((statement) => statement.ok).map((statement) => statement.table);
  const failed = shard.statements.filter((statement) => !statement.ok).map((statement) => statement.problem?.message ?? statement.table);
  if (shard.outcome === 'blocked') return `skipped: ${shard.problem?.message ?? 'a conflicting job holds the shard'}`;
  if (shard.outcome === 'up-to-date') return 'up to date';
  const parts = added.length > 0 ? [`added partitions to ${added.join(', ')}`] : [];
  if (shard.problem) parts.push(shard.problem.message);
  parts.push(...failed);
  return parts.join('; ');
}

function historyRow(shard: ShardPartitionApplyResult, runId: string, trigger: string, host: string, startedAt: Date, finishedAt: Date): MaintenanceRunEntry {
  return {
    job: 'partitions',
    runId,
    shard: shard.index,
    level: null,
    windowStart: null,
    windowEnd: null,
    trigger,
    host,
    startedAt,
    finishedAt,
    outcome: shard.outcome === 'failed' ? 'failed' : shard.outcome === 'blocked' ? 'blocked' : 'ok',
    fencingToken: null,
    detail: describeShardApply(shard),
    error: shard.outcome === 'failed' ? describeShardApply(shard) : null,
  };
}

export interface PartitionServiceOptions {
  clock?: () => Date;
  /** Per-table overrides of DEFAULT_KEEP_AHEAD. */
  keepAhead?: KeepAheadOptions;
}

type Query = MetadataQuery;

/** What one shard's tables look like now, read in one pass. */
interface ShardSnapshot {
  rows: Map<string, PartitionMetadata[]>;
  catchAllRows: Map<string, number>;
}

const quote = (name: string) => `\`${name.replace(/`/g, '``')}\``;

async function readSnapshot(query: Query): Promise<ShardSnapshot> {
  const found = await readPartitionMetadata(query, MANAGED_TABLES);
  const rows = new Map<string, PartitionMetadata[]>(MANAGED_TABLES.map((table) => [table, []]));
  for (const partition of found) rows.get(partition.table)?.push(partition);
  const catchAllRows = new Map<string, number>();
  // The estimate of a partition nobody expects rows in is often 0 when it is not: this warning needs a real count.
  for (const [table, partitions] of rows) {
    const catchAll = partitions.find((partition) => partition.description === 'MAXVALUE');
    if (!catchAll?.name) continue;
    const [count] = await query<Array<{ n: number }>>(`SELECT COUNT(*) AS n FROM ${quote(table)} PARTITION (${quote(catchAll.name)})`);
    catchAllRows.set(table, Number(count?.n ?? 0));
  }
  return { rows, catchAllRows };
}

/** Plans what one shard needs from what it has now; run again under the lock right before the DDL. */
type ShardPlanner = (snapshot: ShardSnapshot) => Promise<TablePlan[]>;

export interface HistoryRangeRequest {
  table: string;
  from: Date;
  to: Date;
  shards?: number[];
}

function existingPartitions(snapshot: ShardSnapshot, table: string): ExistingPartition[] {
  return (snapshot.rows.get(table) ?? []).map((partition) => ({ name: partition.name, description: partition.description, ordinal: partition.ordinal }));
}

function planSnapshot(snapshot: ShardSnapshot, now: Date, keepAhead: KeepAheadOptions | undefined): TablePlan[] {
  return MANAGED_TABLES.map((table) => {
    const partitions = existingPartitions(snapshot, table);
    return planTable({ table, partitions, catchAllRows: snapshot.catchAllRows.get(table), now, keepAhead });
  });
}

async function exactCounts(query: Query, table: string, names: string[]): Promise<Map<string, number>> {
  if (names.length === 0) return new Map();
  // One UNION ALL per table instead of one round trip per partition (a week of hours is 200+ partitions).
  const sql = names.map((name) => `SELECT ? AS name, COUNT(*) AS n FROM ${quote(table)} PARTITION (${quote(name)})`).join(' UNION ALL ');
  const counts = await query<Array<{ name: string; n: number }>>(sql, names);
  return new Map(counts.map((row) => [row.name, Number(row.n)]));
}

/** Runs partition maintenance on every shard in parallel; a shard that is down is reported and the others are done. */
export class ClusterPartitionService implements PartitionService {
  private readonly clock: () => Date;
  private readonly keepAhead: KeepAheadOptions | undefined;
  private readonly work = new WorkTracker('partition');
  private readonly progress: Emitter<PartitionApplyEvent>;
  /** How far ahead each table keeps partitions, as stored in the cluster (`strata partitions ahead`). */
  readonly settings: KeepAheadSettings;
  private readonly host: string;
  private readonly actor: string;

  constructor(
    private readonly connections: ClusterConnections,
    private readonly state: ClusterState,
    private readonly log: ScopedLogger,
    private readonly activities: ShardActivityRegistry,
    options: PartitionServiceOptions = {},
  ) {
    if (options.keepAhead) validateKeepAhead(options.keepAhead);
    this.clock = options.clock ?? (() => new Date());
    this.keepAhead = options.keepAhead;
    this.progress = new Emitter(log, 'partition progress');
    this.settings = new KeepAheadSettings(state);
    this.host = hostname().slice(0, 255);
    this.actor = osUser();
  }

  list(options: { exact?: boolean; shards?: number[] } = {}): Promise<PartitionListReport> {
    return this.work.track(async () => {
      const targets = this.targetShards(options.shards);
      const now = this.clock();
      const keepAhead = await this.currentKeepAhead();
      const shards = await Promise.all(targets.map((handle) => this.listShard(handle, now, options.exact ?? false, keepAhead)));
      return { checkedAt: now.toISOString(), exact: options.exact ?? false, shards };
    });
  }

  plan(options: { shards?: number[] } = {}): Promise<PartitionPlanReport> {
    return this.work.track(async () => {
      const targets = this.targetShards(options.shards);
      const now = this.clock();
      const keepAhead = await this.currentKeepAhead();
      const shards = await Promise.all(
        targets.map(async (handle): Promise<ShardPlan> => {
          const base = { index: handle.index, name: handle.label };
          try {
            const snapshot = await readSnapshot(this.queryOf(handle));
            return { ...base, reachable: true, tables: planSnapshot(snapshot, now, keepAhead).map(toPlanReport) };
          } catch (error) {
            this.log.warn(`partition plan could not read ${handle.label}`, error);
            return { ...base, reachable: false, problem: asProblem(error), tables: [] };
          }
        }),
      );
      return { plannedAt: now.toISOString(), shards };
    });
  }

  apply(options: PartitionApplyOptions = {}): Promise<PartitionApplyReport> {
    return this.work.track(async () => {
      const planAhead: ShardPlanner = async (snapshot) => planSnapshot(snapshot, this.clock(), await this.currentKeepAhead());
      return this.applyEverywhere(options, planAhead, 'adding future partitions');
    });
  }

  planHistory(request: HistoryRangeRequest): Promise<PartitionPlanReport> {
    return this.work.track(() => this.planHistoryChecked(request));
  }

  addHistory(request: HistoryRangeRequest & Omit<PartitionApplyOptions, 'shards'>): Promise<PartitionApplyReport> {
    return this.work.track(async () => {
      // Every shard is planned first: a range one shard refuses (overlap) changes no shard at all.
      await this.planHistoryChecked(request);
      const planRange: ShardPlanner = async (snapshot) => [planHistoryRange({ ...request, partitions: existingPartitions(snapshot, request.table) })];
      return this.applyEverywhere(request, planRange, `adding history partitions to ${request.table}`);
    });
  }

  /** The shards given (an unknown index is refused before any is read), or every shard. */
  private targetShards(indexes: number[] | undefined): ShardHandle[] {
    return indexes ? [...new Set(indexes)].map((index) => this.connections.shard(index)) : [...this.connections.shards];
  }

  private async planHistoryChecked(request: HistoryRangeRequest): Promise<PartitionPlanReport> {
    const now = this.clock();
    const targets = request.shards ? [...new Set(request.shards)].map((index) => this.connections.shard(index)) : [...this.connections.shards];
    validateHistoryRange(request.table, request.from, request.to);
    // Settled, not Promise.all: a refusal must not leave other shards' reads running while the services close.
    const settled = await Promise.allSettled(
      targets.map(async (handle): Promise<ShardPlan> => {
        const base = { index: handle.index, name: handle.label };
        let snapshot: ShardSnapshot;
        try {
          snapshot = await readSnapshot(this.queryOf(handle));
        } catch (error) {
          this.log.warn(`partition plan could not read ${handle.label}`, error);
          return { ...base, reachable: false, problem: asProblem(describeShardError(error, handle)), tables: [] };
        }
        try {
          return { ...base, reachable: true, tables: [toPlanReport(planHistoryRange({ ...request, partitions: existingPartitions(snapshot, request.table) }))] };
        } catch (error) {
          if (isStrataError(error)) throw new StrataError(error.code, `${handle.label}: ${error.message}`);
          throw error;
        }
      }),
    );
    const refused = settled.find((result) => result.status === 'rejected');
    if (refused) throw refused.reason;
    const shards = settled.map((result) => (result as PromiseFulfilledResult<ShardPlan>).value);
    return { plannedAt: now.toISOString(), shards };
  }

  private applyEverywhere(options: PartitionApplyOptions, planShard: ShardPlanner, detail: string): Promise<PartitionApplyReport> {
    return (async () => {
      const indexes = options.shards ? [...new Set(options.shards)] : this.connections.shards.map((handle) => handle.index);
      const targets = indexes.map((index) => this.connections.shard(index));
      const emit = (event: PartitionApplyEvent) => this.progress.emit(event, options.onProgress);
      const runId = randomUUID();
      const shards = await Promise.all(
        targets.map(async (handle) => {
          const startedAt = this.clock();
          const result = await this.applyShard(handle, emit, planShard, detail);
          await this.state.history.record(historyRow(result, runId, options.trigger ?? 'manual', this.host, startedAt, this.clock()));
          return result;
        }),
      );
      await this.state.audit.writeBestEffort({
        at: this.clock(),
        actor: this.actor,
        host: this.host,
        action: 'partitions.apply',
        target: shards.map((shard) => shard.name).join(','),
        detail: shards.map((shard) => `${shard.name}: ${describeShardApply(shard)}`).join(' | '),
      });
      return { ok: shards.every((shard) => shard.outcome !== 'failed'), shards };
    })();
  }

  onProgress(listener: (event: PartitionApplyEvent) => void): Unsubscribe {
    return this.progress.on(listener);
  }

  async dispose(): Promise<void> {
    await this.work.dispose();
    this.progress.clear();
  }

  /** Stored per-table settings, with the constructor's (tests, embedders) on top; defaults where neither says. */
  private async currentKeepAhead(): Promise<KeepAheadOptions | undefined> {
    try {
      return { ...(await this.settings.stored()), ...this.keepAhead };
    } catch (error) {
      // Adding partitions by the defaults is always safe; a control shard that is down must not stop maintenance.
      this.log.warn('keep-ahead settings unreadable; using the defaults', error);
      return this.keepAhead;
    }
  }

  private queryOf(handle: ShardHandle): Query {
    return <T>(sql: string, params: unknown[] = []) => this.connections.query<T>(handle.index, sql, params);
  }

  private async listShard(handle: ShardHandle, now: Date, exact: boolean, keepAhead: KeepAheadOptions | undefined): Promise<ShardPartitions> {
    const base = { index: handle.index, name: handle.label };
    try {
      const query = this.queryOf(handle);
      const snapshot = await readSnapshot(query);
      const plans = planSnapshot(snapshot, now, keepAhead);
      const tables: TablePartitions[] = [];
      for (const [position, table] of MANAGED_TABLES.entries()) {
        const rows = (snapshot.rows.get(table) ?? []).filter((partition) => partition.name !== null);
        const counts = exact ? await exactCounts(query, table, rows.map((partition) => partition.name ?? '')) : undefined;
        const { boundKind } = PARTITION_SCHEMES[table];
        const toIso = (description: string | null) => (description === null || description === 'MAXVALUE' ? null : boundToDate(Number(description), boundKind).toISOString());
        const partitions = rows.map((partition, at): PartitionInfo => {
          const name = partition.name ?? '';
          return {
            name,
            ordinal: Number(partition.ordinal),
            from: at === 0 ? null : toIso(rows[at - 1]?.description ?? null),
            to: toIso(partition.description),
            rows: counts?.get(name) ?? partition.estimatedRows,
            dataBytes: partition.dataBytes,
            indexBytes: partition.indexBytes,
          };
        });
        tables.push({ table, partitioned: partitions.length > 0, partitions, warnings: plans[position]?.warnings ?? [] });
      }
      return { ...base, reachable: true, tables };
    } catch (error) {
      this.log.warn(`partition list could not read ${handle.label}`, error);
      return { ...base, reachable: false, problem: asProblem(error), tables: [] };
    }
  }

  private async applyShard(handle: ShardHandle, emit: (event: PartitionApplyEvent) => void, planShard: ShardPlanner, detail: string): Promise<ShardPartitionApplyResult> {
    const shard = { shard: handle.index, shardName: handle.label };
    let result: ShardPartitionApplyResult;
    try {
      const claim = await this.activities.claim(handle.index, 'maintenance', detail);
      try {
        result = await this.maintainShard(handle, emit, planShard);
      } finally {
        await claim.release().catch((error: unknown) => this.log.warn(`could not release the maintenance claim on ${handle.label}; it lapses on its own`, error));
      }
    } catch (error) {
      // A refused claim skips the shard; an unreachable registry fails it, since nobody can tell whether a backup runs there.
      const blocked = isStrataError(error) && error.code === ErrorCode.ShardBusy;
      this.log.warn(`partition maintenance ${blocked ? 'skipped' : 'could not start'} on ${handle.label}`, error);
      result = { index: handle.index, name: handle.label, outcome: blocked ? 'blocked' : 'failed', statements: [], warnings: [], problem: asProblem(error) };
    }
    emit({ kind: 'shard-finished', ...shard, result });
    return result;
  }

  private async maintainShard(handle: ShardHandle, emit: (event: PartitionApplyEvent) => void, planShard: ShardPlanner): Promise<ShardPartitionApplyResult> {
    const shard = { shard: handle.index, shardName: handle.label };
    const statements: AppliedStatement[] = [];
    const warnings: PartitionWarning[] = [];
    let session: ShardSession | undefined;
    try {
      const opened = (session = await this.connections.session(handle.index));
      const query: Query = <T>(sql: string, params: unknown[] = []) => opened.query<T>(sql, params);
      // GET_LOCK belongs to the session, so the lock, the fresh read and the DDL all use this one connection.
      const busy = () => {
        throw new StrataError(
          ErrorCode.PartitionApplyFailed,
          `${handle.label}: lock ${PARTITION_LOCK_NAME} is still held after ${PARTITION_LOCK_WAIT_SECONDS} s by another session adding partitions; try again when it has finished`,
        );
      };
      await withNamedLock(opened, PARTITION_LOCK_NAME, PARTITION_LOCK_WAIT_SECONDS, async () => {
        const plans = await planShard(await readSnapshot(query));
        for (const plan of plans) warnings.push(...plan.warnings);
        const work = plans.flatMap((plan) => plan.statements.map((sql) => ({ table: plan.table, sql })));
        for (const [position, { table, sql }] of work.entries()) {
          const step = { ...shard, table, position: position + 1, total: work.length };
          emit({ kind: 'statement-started', ...step, sql });
          try {
            // A REORGANIZE waiting behind a long transaction would hold up every insert into the table: wait briefly,
            // retry, skip. The lock is taken first because ALTER TABLE alone waits twice (its copy, then the swap).
            const run = await withShortLockWait(query, async () => {
              await opened.query(`LOCK TABLES ${quote(table)} WRITE`);
              try {
                await opened.query(sql, [], { kind: 'ddl' });
              } finally {
                await opened.query('UNLOCK TABLES');
              }
            });
            if (!run.done) throw lockSkipError(`${handle.label}: ${table}`, run);
            statements.push({ table, sql, ok: true });
            this.log.info(`${handle.label}: ${sql}`);
            emit({ kind: 'statement-finished', ...step, ok: true });
          } catch (error) {
            // One table that cannot be reorganised must not leave the other tables without partitions.
            // A shard that went away fails every later statement too: stop at the first.
            if (isStrataError(error) && (error.code === ErrorCode.ShardUnreachable || error.code === ErrorCode.ShardTimeout)) throw error;
            const skipped = isStrataError(error) && error.code === ErrorCode.DdlLockBusy;
            const cause = (error as { message?: string }).message ?? String(error);
            const problem = skipped ? asProblem(error) : { code: ErrorCode.PartitionApplyFailed, message: `${handle.label}: ${table}: ${cause}` };
            this.log.warn(`partition statement failed on ${handle.label}`, error);
            statements.push({ table, sql, ok: false, problem });
            emit({ kind: 'statement-finished', ...step, ok: false, message: problem.message });
          }
        }
      }, busy);
      session.release();
      const failed = statements.some((statement) => !statement.ok);
      return { index: handle.index, name: handle.label, outcome: failed ? 'failed' : statements.length > 0 ? 'applied' : 'up-to-date', statements, warnings };
    } catch (error) {
      const failure = describeShardError(error, handle);
      this.log.warn(`partition apply failed on ${handle.label}`, failure);
      session?.destroy();
      return { index: handle.index, name: handle.label, outcome: 'failed', statements, warnings, problem: asProblem(failure) };
    }
  }
}

function toPlanReport(plan: TablePlan): TablePlanReport {
  return { table: plan.table, adds: plan.adds.map((spec) => spec.name), statements: plan.statements, warnings: plan.warnings };
}
