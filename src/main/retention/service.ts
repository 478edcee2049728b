import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Unsubscribe } from '../../shared/api';
import { ErrorCode, StrataError } from '../../shared/errors';
import type { RunTrigger } from '../../shared/rollup';
import {
  DEFAULT_RETENTION_SETTINGS,
  MINIMUM_RETENTION,
  RETAINED_TABLES,
  RETENTION_TABLE_NAMES,
  retentionPolicyProblems,
  retentionPolicySchema,
  type KeptWindow,
  type MaintenanceRun,
  type MaintenanceRunHistory,
  type PruneProgress,
  type PruneReport,
  type PruneRequest,
  type RetentionPolicyEntry,
  type RetentionSetRequest,
  type RetentionSettings,
  type RetentionTable,
  type ShardPrune,
  type TablePrune,
  type TablePruneResult,
} from '../../shared/retention';
import { describeShardError, type ClusterConnections, type ShardHandle, type ShardSession, type StatementOptions } from '../cluster/connections';
import { readTablePartitions, isPartitioned } from '../cluster/partition-metadata';
import type { ActivityClaim, ShardActivityRegistry } from '../conflicts/registry';
import { describeConflict, findConflict } from '../conflicts/rules';
import { osUser } from '../identity';
import { Emitter } from '../lifecycle/emitter';
import { asProblem } from '../lifecycle/problem';
import { WorkTracker } from '../lifecycle/work-tracker';
import type { ScopedLogger } from '../log';
import { withShortLockWait } from '../partitions/metadata-lock';
import { boundToDate } from '../partitions/planner';
import { readWatermarks, type StoredWatermark } from '../rollup/watermark';
import { PARTITION_SCHEMES, periodStart } from '../schema/partitions';
import { readCompletedWindows, withNamedLock, type ClusterState } from '../state';
import { expiredBefore, planTablePrune, retentionCutoff, windowEnd, type PartitionFacts, type WindowTotal } from './planner';
import { readMaintenanceRuns, type MaintenanceRunEntry } from './runs';
import { deleteBatchSql, dropPartitionsSql, lateRowsInPartitionsSql, lateRowsInRangeSql, nextLevelTotalsSql, unionAll, windowTotalsSql, type Statement, type TotalsSource } from './sql';

export interface PruneOptions extends PruneRequest {
  trigger?: RunTrigger;
  /** The lease token the scheduler runs under; recorded with each run. */
  fencingToken?: number;
  /** Stops after the current batch or partition drop; what is left is reported as kept (`cancelled`). */
  signal?: AbortSignal;
  onProgress?: (progress: PruneProgress) => void;
}

/**
 * Retention of the four analytics tables: the policy stored in the cluster, the dry run, and the prune itself,
 * which drops whole expired partitions and deletes what remains in bounded batches, never touching a window the
 * next level has not rolled up or whose totals do not reconcile with it.
 */
export interface RetentionService {
  policy(): Promise<RetentionPolicyEntry>;
  /** Validates (rollup lag included), stores and audits a change; refused changes change nothing. */
  setPolicy(request: RetentionSetRequest): Promise<RetentionPolicyEntry>;
  /** What a prune would remove and keep, per shard and table, without changing anything. */
  plan(request?: PruneRequest): Promise<PruneReport>;
  prune(options?: PruneOptions): Promise<PruneReport>;
  /** The latest prune and maintenance runs, newest first. */
  runs(limit?: number): Promise<MaintenanceRun[]>;
  /** The same runs, with the shards whose history could not be read (the runs then lack theirs). */
  runHistory(limit?: number): Promise<MaintenanceRunHistory>;
  /** Progress of every prune this process runs, whoever started it. */
  onProgress(listener: (progress: PruneProgress) => void): Unsubscribe;
  dispose(): Promise<void>;
}

/** The strata_settings row that holds the retention policy on the control shard. */
export const RETENTION_SETTING = 'retention';
/** Per-shard named lock: two prunes of one shard at once would both try to drop the same partitions. */
export const PRUNE_LOCK_NAME = 'strata_prune';
const PRUNE_LOCK_WAIT_SECONDS = 10;
/** Totals queries per round trip. */
const TOTALS_PER_QUERY = 200;

export interface RetentionServiceOptions {
  clock?: () => Date;
  /** Milliseconds on a monotonic clock, which the time budget is measured on; performance.now() by default. */
  monotonicNow?: () => number;
  host?: string;
  actor?: string;
  /**
   * Test hook: called on a real prune after a table's gate has checked it and before anything is removed, the
   * moment a late row must not be lost in.
   */
  afterGate?: (step: { shard: number; table: RetentionTable }) => Promise<void> | void;
}

type Query = <T>(sql: string, params?: unknown[], options?: StatementOptions) => Promise<T>;

/** The raw table's rows get ever higher ids; the rollup tables are written only by rollups, which re-check totals. */
const INGESTED_TABLE: RetentionTable = 'analytics_realtime';
/** A DROP PARTITION is a metadata change: it ends in milliseconds on a live server, so a minute means a dead one. */
const DROP_DEADLINE_MS = 60_000;

interface StoredPolicy {
  policy: RetentionSettings;
  changedBy?: string;
  changedAt?: string;
}

/** What one table looks like on one shard, read before planning. */
interface TableFacts {
  partitioned: boolean;
  partitions: PartitionFacts[];
  expiredWindows: WindowTotal[];
  windowRows: Map<number, number>;
  nextLevelTotals: Map<number, number>;
  coverage: { watermark: Date | null; coveredFrom: Date | null; rolledUpWindows: Set<number> };
  partialWindows: Map<number, number>;
  /**
   * Raw table only, on a real prune: the highest id when the gate read the table, taken while no insert was in
   * flight, so every row at or below it was counted. Rows above it are late: never dropped or deleted unchecked.
   * Undefined when it could not be noted (the table stayed locked), which keeps the table whole this run.
   */
  checkedUpTo?: number;
  lockedFor?: string;
}

/** What executing a table's plan removed, and the lost connection that stopped the shard, if one did. */
interface Execution {
  result: TablePruneResult;
  lost?: StrataError;
}

interface RunContext {
  runId: string;
  dryRun: boolean;
  now: Date;
  policy: RetentionSettings;
  tables: readonly RetentionTable[];
  trigger: RunTrigger;
  fencingToken: number | null;
  signal: AbortSignal;
  emit: (progress: PruneProgress) => void;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** The policy merged over the defaults, so a setting added by a later version has a value on an older row. */
function parseStoredPolicy(text: string): RetentionSettings {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new StrataError(ErrorCode.RetentionInvalid, 'the stored retention policy is not valid JSON; set it again with strata retention set');
  }
  const checked = retentionPolicySchema.safeParse({ ...DEFAULT_RETENTION_SETTINGS, ...(parsed as object) });
  if (!checked.success) throw new StrataError(ErrorCode.RetentionInvalid, `the stored retention policy is invalid: ${checked.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  return checked.data;
}

function describeTable(table: TablePrune): string {
  const parts: string[] = [];
  const result = table.result;
  if (result) {
    parts.push(`dropped ${result.droppedPartitions} partition${result.droppedPartitions === 1 ? '' : 's'}, deleted ${result.deletedRows.toLocaleString('en-US')} rows`);
    if (result.stoppedBy) parts.push(`stopped by ${result.stoppedBy}${result.error ? ` (${result.error})` : ''}`);
  } else {
    parts.push(`${table.drops.length} partitions and ${table.deletes.length} ranges to remove, ${table.rows.toLocaleString('en-US')} rows`);
  }
  if (table.kept.length > 0) {
    const reasons = new Map<string, number>();
    for (const kept of table.kept) reasons.set(kept.reason, (reasons.get(kept.reason) ?? 0) + 1);
    parts.push(`kept ${table.kept.length} window${table.kept.length === 1 ? '' : 's'} (${[...reasons].map(([reason, n]) => `${reason} ${n}`).join(', ')})`);
  }
  return `${RETAINED_TABLES[table.table].label}: ${parts.join('; ')}`;
}

/** Rows a real run removed from a table: the partitions it dropped (plan.drops holds only those then) and its deletes. */
function removedRows(table: TablePrune): number {
  const result = table.result;
  if (!result) return 0;
  return (result.droppedPartitions > 0 ? table.drops.reduce((sum, partition) => sum + partition.rows, 0) : 0) + result.deletedRows;
}

function removedBytes(table: TablePrune): number {
  return table.result && table.result.droppedPartitions > 0 ? table.bytes : 0;
}

/**
 * A shard that went away mid-run, as ShardUnreachable naming it: the driver says it several ways (a lost connection,
 * "Can't add new command when connection is in closed state" on the next statement, a session closed after either).
 */
function connectionLost(error: unknown, handle: ShardHandle): StrataError | undefined {
  if (error instanceof StrataError && (error.code === ErrorCode.ShardUnreachable || error.code === ErrorCode.ShardTimeout)) return error;
  let fatal = false;
  for (let at: unknown = error; at && typeof at === 'object' && !fatal; at = (at as { cause?: unknown }).cause) {
    const driver = at as { fatal?: unknown; message?: unknown };
    fatal = driver.fatal === true || (typeof driver.message === 'string' && /closed state|the session was closed/.test(driver.message));
  }
  return fatal ? describeShardError(Object.assign(new Error('connection lost'), { code: 'PROTOCOL_CONNECTION_LOST', cause: error }), handle) : undefined;
}

const isoMinute = (at: Date) => at.toISOString().replace('.000Z', 'Z');
const formatRows = (rows: number) => `${rows.toLocaleString('en-US')} row${rows === 1 ? ' was' : 's were'}`;

/** Does a partition hold exactly one window, so a plain COUNT(*) of it is that window's total? */
function holdsOneWindow(table: RetentionTable, partition: PartitionFacts): partition is PartitionFacts & { from: Date; to: Date } {
  if (!partition.from || !partition.to) return false;
  const window = RETAINED_TABLES[table].window;
  return periodStart(partition.from, window).getTime() === partition.from.getTime() && windowEnd(table, partition.from).getTime() === partition.to.getTime();
}

export class ClusterRetentionService implements RetentionService {
  private readonly clock: () => Date;
  private readonly monotonicNow: () => number;
  private readonly host: string;
  private readonly actor: string;
  private readonly progress: Emitter<PruneProgress>;
  private readonly work = new WorkTracker('retention');
  private readonly afterGate: RetentionServiceOptions['afterGate'];

  constructor(
    private readonly connections: ClusterConnections,
    private readonly state: ClusterState,
    private readonly log: ScopedLogger,
    private readonly activities: ShardActivityRegistry,
    options: RetentionServiceOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.monotonicNow = options.monotonicNow ?? (() => performance.now());
    this.host = (options.host ?? hostname()).slice(0, 255);
    this.actor = (options.actor ?? osUser()).slice(0, 255);
    this.progress = new Emitter(log, 'prune progress');
    this.afterGate = options.afterGate;
  }

  policy(): Promise<RetentionPolicyEntry> {
    return this.work.track(async () => this.toEntry(await this.readPolicy()));
  }

  setPolicy(request: RetentionSetRequest): Promise<RetentionPolicyEntry> {
    return this.work.track(async () => {
      const stored = await this.state.control.transaction(async (session) => {
        // The row lock orders concurrent edits, so each audit entry's "from" is what it really replaced.
        const current = await this.state.settings.readForUpdate(session, RETENTION_SETTING);
        const before = current ? parseStoredPolicy(current.value) : { ...DEFAULT_RETENTION_SETTINGS };
        const checked = retentionPolicySchema.safeParse({ ...before, ...request });
        if (!checked.success) {
          throw new StrataError(ErrorCode.RetentionInvalid, checked.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
        }
        const problems = retentionPolicyProblems(checked.data);
        if (problems.length > 0) throw new StrataError(ErrorCode.RetentionInvalid, problems.join('; '));
        const at = this.clock();
        const changedBy = `${this.actor}@${this.host}`.slice(0, 255);
        await this.state.settings.write({ name: RETENTION_SETTING, value: JSON.stringify(checked.data), updatedAt: at, updatedBy: changedBy }, session);
        const changes = (Object.keys(checked.data) as Array<keyof RetentionSettings>).filter((key) => checked.data[key] !== before[key]).map((key) => `${key} ${before[key]} → ${checked.data[key]}`);
        const detail = changes.length > 0 ? changes.join(', ') : 'no change';
        await this.state.audit.write({ at, actor: this.actor, host: this.host, action: 'retention.set', target: RETENTION_SETTING, detail }, session);
        return { policy: checked.data, changedBy, changedAt: at, detail };
      });
      this.log.info(`retention policy set by ${stored.changedBy}: ${stored.detail}`);
      return this.toEntry({ policy: stored.policy, changedBy: stored.changedBy, changedAt: stored.changedAt.toISOString() });
    });
  }

  plan(request: PruneRequest = {}): Promise<PruneReport> {
    return this.work.track(() => this.run(request, true, {}));
  }

  prune(options: PruneOptions = {}): Promise<PruneReport> {
    return this.work.track(() => this.run(options, false, options));
  }

  async runs(limit = 50): Promise<MaintenanceRun[]> {
    return (await this.runHistory(limit)).runs;
  }

  runHistory(limit = 50): Promise<MaintenanceRunHistory> {
    return this.work.track(() => readMaintenanceRuns(this.state.history, limit));
  }

  onProgress(listener: (progress: PruneProgress) => void): Unsubscribe {
    return this.progress.on(listener);
  }

  dispose(): Promise<void> {
    return this.work.dispose();
  }

  private toEntry(stored: StoredPolicy): RetentionPolicyEntry {
    const isDefault = (Object.keys(DEFAULT_RETENTION_SETTINGS) as Array<keyof RetentionSettings>).every((key) => stored.policy[key] === DEFAULT_RETENTION_SETTINGS[key]);
    return { policy: stored.policy, defaults: { ...DEFAULT_RETENTION_SETTINGS }, isDefault, minimums: { ...MINIMUM_RETENTION }, changedBy: stored.changedBy, changedAt: stored.changedAt };
  }

  /** The stored policy; a prune never guesses it, so an unreachable control shard fails the prune. */
  private async readPolicy(): Promise<StoredPolicy> {
    let stored;
    try {
      stored = await this.state.settings.read(RETENTION_SETTING);
    } catch (error) {
      throw describeShardError(error, this.state.control.handle);
    }
    if (!stored) return { policy: { ...DEFAULT_RETENTION_SETTINGS } };
    return { policy: parseStoredPolicy(stored.value), changedBy: stored.updatedBy, changedAt: stored.updatedAt.toISOString() };
  }

  private async run(request: PruneRequest, dryRun: boolean, options: Omit<PruneOptions, keyof PruneRequest>): Promise<PruneReport> {
    const handles = request.shards ? [...new Set(request.shards)].map((index) => this.connections.shard(index)) : [...this.connections.shards];
    const tables = request.tables ? RETENTION_TABLE_NAMES.filter((table) => request.tables!.includes(table)) : [...RETENTION_TABLE_NAMES];
    const { policy } = await this.readPolicy();
    const problems = retentionPolicyProblems(policy);
    if (problems.length > 0) throw new StrataError(ErrorCode.RetentionInvalid, `the stored retention policy is refused: ${problems.join('; ')}`);
    const signal = options.signal ? AbortSignal.any([options.signal, this.work.signal]) : this.work.signal;
    const context: RunContext = {
      runId: randomUUID(),
      dryRun,
      now: this.clock(),
      policy,
      tables,
      trigger: options.trigger ?? 'manual',
      fencingToken: options.fencingToken ?? null,
      signal,
      emit: (progress) => this.progress.emit(progress, options.onProgress),
    };
    const shards = await Promise.all(handles.map((handle) => this.runShard(handle, context)));
    const all = shards.flatMap((shard) => shard.tables);
    const report: PruneReport = {
      runId: context.runId,
      plannedAt: context.now.toISOString(),
      dryRun,
      policy,
      ok:
        shards.every((shard) => shard.reachable && !shard.problem) &&
        all.every((table) => table.result?.stoppedBy !== 'failed' && !table.kept.some((kept) => kept.reason === 'table-locked')),
      // A real run counts what it removed, which a stop or a skipped drop makes less than the plan.
      totals: {
        rows: all.reduce((sum, table) => sum + (dryRun ? table.rows : removedRows(table)), 0),
        bytes: all.reduce((sum, table) => sum + (dryRun ? table.bytes : removedBytes(table)), 0),
        partitions: all.reduce((sum, table) => sum + (dryRun ? table.drops.length : (table.result?.droppedPartitions ?? 0)), 0),
        kept: all.reduce((sum, table) => sum + table.kept.length, 0),
      },
      shards,
    };
    if (!dryRun) {
      await this.state.audit.writeBestEffort({
        at: this.clock(),
        actor: this.actor,
        host: this.host,
        action: 'retention.prune',
        target: shards.map((shard) => shard.name).join(',') || 'none',
        detail: shards
          .map((shard) => `${shard.name}: ${shard.blockedBy ? `skipped (${shard.blockedBy})` : [...shard.tables.map(describeTable), ...(shard.problem ? [`${shard.tables.length > 0 ? 'stopped' : 'not pruned'} (${shard.problem.message})`] : [])].join('; ')}`)
          .join(' | '),
      });
    }
    return report;
  }

  private async runShard(handle: ShardHandle, context: RunContext): Promise<ShardPrune> {
    const base = { index: handle.index, name: handle.label };
    const startedAt = this.clock();
    let session: ShardSession | undefined;
    let claim: ActivityClaim | undefined;
    const tables: TablePrune[] = [];
    try {
      const blockedBy = await this.conflictOf(handle, context, (held) => (claim = held));
      if (blockedBy) {
        if (!context.dryRun) {
          this.log.warn(`prune skipped ${handle.label}: ${blockedBy}`);
          await this.recordShard(handle, context, startedAt, 'blocked', `skipped: ${blockedBy}`, null);
        }
        return { ...base, reachable: true, blockedBy, tables: [] };
      }
      const opened = (session = await this.connections.session(handle.index));
      const query: Query = <T>(sql: string, params: unknown[] = [], options?: StatementOptions) => opened.query<T>(sql, params, options);
      const pruneLocked = async () => {
        const deadline = this.monotonicNow() + context.policy.timeBudgetSeconds * 1000;
        const watermarks = await readWatermarks(query);
        for (const table of context.tables) {
          const tableStarted = this.clock();
          const facts = await this.readFacts(query, handle, table, context, watermarks);
          if (!facts) continue;
          const plan = planTablePrune({ table, now: context.now, policy: context.policy, ...facts }, facts.windowRows);
          tables.push(plan);
          if (context.dryRun) continue;
          await this.afterGate?.({ shard: handle.index, table });
          const execution = await this.execute(query, handle, plan, context, deadline, facts);
          plan.result = execution.result;
          await this.recordTable(handle, plan, context, tableStarted);
          // The session is gone with its shard: the next table would only fail the same way on it.
          if (execution.lost) throw execution.lost;
        }
      };
      await withNamedLock(opened, PRUNE_LOCK_NAME, PRUNE_LOCK_WAIT_SECONDS, pruneLocked, () => {
        throw new StrataError(ErrorCode.PruneFailed, `${handle.label}: another prune of this shard is still running after ${PRUNE_LOCK_WAIT_SECONDS} s; try again when it has finished`);
      });
      session.release();
      return { ...base, reachable: true, tables };
    } catch (error) {
      session?.destroy();
      const failure = connectionLost(error, handle) ?? (error instanceof StrataError ? error : describeShardError(error, handle));
      this.log.warn(`prune of ${handle.label} failed`, failure);
      const unreachable = !(error instanceof StrataError) || [ErrorCode.ShardUnreachable, ErrorCode.ShardAuthFailed, ErrorCode.ShardTimeout].includes(failure.code as never);
      const done = tables.filter((table) => table.result);
      if (!context.dryRun) {
        const detail = done.length > 0 ? `${handle.label} stopped after ${done.map((table) => RETAINED_TABLES[table.table].label).join(', ')}` : `${handle.label} was not pruned`;
        await this.recordShard(handle, context, startedAt, 'failed', detail, failure.message);
      }
      // What was already removed stays in the report: its rows are gone whatever happened next.
      return { ...base, reachable: !unreachable, problem: asProblem(failure), tables: done };
    } finally {
      await claim?.release();
    }
  }

  /**
   * The job-conflict rule: a prune claims its shard, and a backup of the shard refuses the claim. A dry run claims
   * nothing but still says what would block the prune.
   */
  private async conflictOf(handle: ShardHandle, context: RunContext, hold: (claim: ActivityClaim) => void): Promise<string | undefined> {
    if (context.dryRun) {
      const blocking = findConflict('prune', await this.activities.running(handle.index));
      return blocking ? describeConflict(blocking, handle.label) : undefined;
    }
    try {
      hold(await this.activities.claim(handle.index, 'prune', `pruning ${context.tables.map((table) => RETAINED_TABLES[table].label).join(', ')}`));
      return undefined;
    } catch (error) {
      if (error instanceof StrataError && error.code === ErrorCode.ShardBusy) return error.message;
      throw error;
    }
  }

  /** A run that never reached the tables of a shard (it was down, or a backup held it) still leaves a trace. */
  private async recordShard(handle: ShardHandle, context: RunContext, startedAt: Date, outcome: 'failed' | 'blocked', detail: string, error: string | null): Promise<void> {
    const entry: MaintenanceRunEntry = {
      job: 'prune',
      runId: context.runId,
      shard: handle.index,
      level: null,
      windowStart: null,
      windowEnd: null,
      trigger: context.trigger,
      host: this.host,
      startedAt,
      finishedAt: this.clock(),
      outcome,
      fencingToken: context.fencingToken,
      detail,
      error,
    };
    await this.state.history.record(entry);
  }

  /** Partitions, expired window totals, and what the next level holds and covers, for one table; undefined when it is missing. */
  private async readFacts(query: Query, handle: ShardHandle, table: RetentionTable, context: RunContext, watermarks: readonly StoredWatermark[]): Promise<TableFacts | undefined> {
    const { boundKind } = PARTITION_SCHEMES[table];
    const metadata = await readTablePartitions(query, table);
    if (!metadata) return undefined;
    const partitioned = isPartitioned(metadata);
    const partitions: PartitionFacts[] = [];
    if (partitioned) {
      let from: Date | null = null;
      for (const partition of metadata) {
        const to = partition.description === null || partition.description === 'MAXVALUE' ? null : boundToDate(Number(partition.description), boundKind);
        partitions.push({ name: partition.name!, from, to, rows: partition.estimatedRows, bytes: partition.dataBytes + partition.indexBytes });
        from = to;
      }
    }
    const before = expiredBefore(table, retentionCutoff(table, context.now, context.policy));
    const noted = table === INGESTED_TABLE && !context.dryRun ? await this.noteHighestId(query, context) : undefined;
    const sources: TotalsSource[] = partitioned
      ? partitions
          .filter((partition) => partition.from === null || partition.from < before)
          .map((partition): TotalsSource =>
            partition.to && partition.to <= before && holdsOneWindow(table, partition)
              ? { kind: 'whole-partition', partition: partition.name, windowStart: partition.from }
              : { kind: 'partition-before', partition: partition.name, before },
          )
      : [{ kind: 'table-before', before }];
    const expiredWindows: WindowTotal[] = [];
    const windowRows = new Map<number, number>();
    for (let at = 0; at < sources.length; at += TOTALS_PER_QUERY) {
      const statement = unionAll(sources.slice(at, at + TOTALS_PER_QUERY).map((source) => windowTotalsSql(table, source)));
      for (const row of await query<Array<{ w: number | string; n: number | string; pv: number | string }>>(statement.sql, statement.params)) {
        const start = Number(row.w) * 1000;
        const known = windowRows.get(start);
        // A window split over two partitions comes back once per partition.
        if (known === undefined) expiredWindows.push({ start: new Date(start), pageViews: Number(row.pv) });
        else expiredWindows.find((window) => window.start.getTime() === start)!.pageViews += Number(row.pv);
        windowRows.set(start, (known ?? 0) + Number(row.n));
      }
    }
    const facts: TableFacts = {
      partitioned,
      partitions,
      expiredWindows,
      windowRows,
      nextLevelTotals: new Map(),
      coverage: { watermark: null, coveredFrom: null, rolledUpWindows: new Set() },
      partialWindows: new Map(),
      ...(noted === undefined ? {} : noted.done ? { checkedUpTo: noted.value } : { lockedFor: noted.reason }),
    };
    const nextLevel = RETAINED_TABLES[table].nextLevel;
    if (!nextLevel || expiredWindows.length === 0) return facts;
    const partial = await query<Array<{ w: number | string; pv: number | string }>>(
      'SELECT UNIX_TIMESTAMP(window_start) AS w, next_level_page_views AS pv FROM strata_prune_partial WHERE table_name = ?',
      [table],
    );
    for (const row of partial) facts.partialWindows.set(Number(row.w) * 1000, Number(row.pv));
    const from = new Date(Math.min(...expiredWindows.map((window) => window.start.getTime())));
    const to = new Date(Math.max(...expiredWindows.map((window) => windowEnd(table, window.start).getTime())));
    const read = async (statement: Statement | undefined) => (statement ? query<Array<{ w: number | string; pv?: number | string }>>(statement.sql, statement.params) : []);
    for (const row of await read(nextLevelTotalsSql(table, from, to))) facts.nextLevelTotals.set(Number(row.w) * 1000, Number(row.pv));
    for (const start of await readCompletedWindows(query, nextLevel, handle.index, from, to)) facts.coverage.rolledUpWindows.add(start.getTime());
    const watermark = watermarks.find((stored) => stored.level === nextLevel);
    facts.coverage.watermark = watermark?.watermark ?? null;
    facts.coverage.coveredFrom = watermark?.coveredFrom ?? null;
    return facts;
  }

  /**
   * The raw table's highest id, read under a table READ lock held for that one statement: the lock waits for the
   * inserts in flight, so no row at or below the id can commit later. Readers do not block it; a long writer does,
   * for the short lock wait only.
   */
  private async noteHighestId(query: Query, context: RunContext) {
    return withShortLockWait(
      query,
      async () => {
        await query(`LOCK TABLES ${INGESTED_TABLE} READ`);
        try {
          const [row] = await query<Array<{ id: number | string | null }>>(`SELECT MAX(id) AS id FROM ${INGESTED_TABLE}`);
          return Number(row?.id ?? 0);
        } finally {
          await query('UNLOCK TABLES');
        }
      },
      { signal: context.signal },
    );
  }

  /**
   * Drops the plan's partitions, then deletes its ranges batch by batch until done, out of time, or cancelled.
   * Partitions go only with the table's metadata lock had within a short wait; the raw table's drop also checks,
   * under a WRITE lock held for milliseconds, that no row came in above the id the gate noted. What is left for
   * either reason is reported as kept, and the next run checks it again.
   */
  private async execute(query: Query, handle: ShardHandle, plan: TablePrune, context: RunContext, deadline: number, facts: TableFacts): Promise<Execution> {
    const started = Date.now();
    const table = plan.table;
    const { label, nextLevel } = RETAINED_TABLES[table];
    const result: TablePruneResult = { droppedPartitions: 0, deletedRows: 0, elapsedMs: 0, complete: false };
    const step = { runId: context.runId, shard: handle.index, shardName: handle.label, table, plannedRows: plan.rows };
    const emit = (kind: PruneProgress['kind'], message?: string) =>
      context.emit({ ...step, kind, droppedPartitions: result.droppedPartitions, deletedRows: result.deletedRows, message });
    const stop = (reason: 'time-budget' | 'cancelled', remaining: typeof plan.deletes) => {
      result.stoppedBy = reason;
      const why = reason === 'time-budget' ? `the time budget of ${context.policy.timeBudgetSeconds} s ran out before this range was removed; the next prune continues` : 'the prune was cancelled before this range was removed';
      plan.kept.push(...remaining.map((range): KeptWindow => ({ table, windowStart: range.from, windowEnd: range.to, reason, message: `${label} ${range.from}–${range.to}: ${why}` })));
    };
    let leftBehind = false;
    const keep = (reason: 'late-rows' | 'table-locked', windows: ReadonlyArray<{ from: Date; to: Date }>, why: string) => {
      leftBehind = true;
      plan.kept.push(...windows.map(({ from, to }): KeptWindow => ({ table, windowStart: isoMinute(from), windowEnd: isoMinute(to), reason, message: `${handle.label} ${label} ${isoMinute(from)}–${isoMinute(to)}: ${why}` })));
    };
    const windowsOf = (drop: (typeof plan.drops)[number]) =>
      facts.expiredWindows
        .map((window) => ({ from: window.start, to: windowEnd(table, window.start) }))
        .filter((window) => window.from.getTime() < Date.parse(drop.to) && (drop.from === null || window.from.getTime() >= Date.parse(drop.from)));
    const lateWhy = (rows: number, where: string) =>
      `${formatRows(rows)} written into it after the prune checked it (${where}); kept for the next prune, which checks ${rows === 1 ? 'it' : 'them'} against the ${nextLevel} rollup`;
    let lost: StrataError | undefined;
    emit('table-started');
    try {
      if (table === INGESTED_TABLE && facts.checkedUpTo === undefined && (plan.drops.length > 0 || plan.deletes.length > 0)) {
        // Without the noted id nothing tells a late row from a checked one: leave the table whole this run.
        const why = `not removed: ${facts.lockedFor ?? 'the highest checked id could not be noted'}; the next prune removes it`;
        keep('table-locked', [...plan.drops.flatMap(windowsOf), ...plan.deletes.map((range) => ({ from: new Date(range.from), to: new Date(range.to) }))], why);
        plan.drops = [];
        plan.deletes = [];
      }
      if (plan.drops.length > 0) {
        if (context.signal.aborted) {
          stop('cancelled', plan.deletes);
          return { result: this.finish(result, started, emit) };
        }
        const planned = plan.drops;
        const dropping = await withShortLockWait(query, () => this.dropChecked(query, table, planned, facts.checkedUpTo), { signal: context.signal });
        if (!dropping.done) {
          this.log.warn(`${handle.label}: ${table}: partitions not dropped: ${dropping.reason}`);
          keep('table-locked', planned.flatMap(windowsOf), `not removed: ${dropping.reason}; the next prune drops it`);
          plan.drops = [];
        } else {
          const { dropped, late, lockedMs } = dropping.value;
          for (const [name, rows] of late) keep('late-rows', windowsOf(planned.find((drop) => drop.name === name)!), lateWhy(rows, `partition ${name}`));
          plan.drops = planned.filter((drop) => dropped.includes(drop.name));
          result.droppedPartitions = plan.drops.length;
          if (dropped.length > 0) {
            // A half-deleted window whose partition went is no longer half anything.
            const gone = [...facts.partialWindows.keys()].filter((start) => plan.drops.some((drop) => start < Date.parse(drop.to) && (drop.from === null || start >= Date.parse(drop.from))));
            if (gone.length > 0) await query('DELETE FROM strata_prune_partial WHERE table_name = ? AND window_start IN (?)', [table, gone.map((start) => new Date(start))]);
            this.log.info(`${handle.label}: ${dropPartitionsSql(table, dropped)}${lockedMs === undefined ? '' : ` (table locked for ${lockedMs} ms)`}`);
            emit('partitions-dropped', `dropped ${dropped.length} partition${dropped.length === 1 ? '' : 's'}${lockedMs === undefined ? '' : `; the table was locked for ${lockedMs} ms`}`);
          }
        }
      }
      for (const [position, range] of plan.deletes.entries()) {
        const windowStart = new Date(range.from);
        const windowStop = new Date(range.to);
        const lateRows = async () => {
          if (facts.checkedUpTo === undefined) return 0;
          const late = lateRowsInRangeSql(table, windowStart, windowStop, facts.checkedUpTo);
          const [row] = await query<Array<{ n: number | string }>>(late.sql, late.params);
          return Number(row?.n ?? 0);
        };
        const lateBefore = await lateRows();
        if (lateBefore > 0) {
          // Untouched, the window can still be re-rolled from its raw rows; half-deleted, it could not.
          keep('late-rows', [{ from: windowStart, to: windowStop }], lateWhy(lateBefore, 'before its delete began'));
          continue;
        }
        if (range.nextLevelPageViews !== undefined) {
          // Written before the first batch: a stop inside the window leaves its source short of the next level on purpose.
          await query(
            'INSERT INTO strata_prune_partial (table_name, window_start, next_level_page_views, started_at) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE table_name = table_name',
            [table, windowStart, range.nextLevelPageViews, new Date()],
          );
        }
        for (;;) {
          if (context.signal.aborted || this.monotonicNow() > deadline) {
            stop(context.signal.aborted ? 'cancelled' : 'time-budget', plan.deletes.slice(position));
            return { result: this.finish(result, started, emit) };
          }
          const batch = deleteBatchSql(table, windowStart, windowStop, context.policy.batchRows, facts.checkedUpTo);
          const outcome = await query<{ affectedRows: number }>(batch.sql, batch.params, { kind: 'write' });
          result.deletedRows += outcome.affectedRows;
          emit('batch-deleted');
          if (outcome.affectedRows < context.policy.batchRows) break;
          await sleep(context.policy.batchPauseMs, context.signal);
        }
        const lateAfter = await lateRows();
        if (lateAfter > 0 && range.nextLevelPageViews !== undefined) {
          // Rows that came in during the delete are all the window holds now, so it can no longer be re-rolled.
          // The mark is raised above what the next level holds: the next prune keeps the window and says to check it.
          await query('UPDATE strata_prune_partial SET next_level_page_views = ? WHERE table_name = ? AND window_start = ?', [range.nextLevelPageViews + lateAfter, table, windowStart]);
          keep('late-rows', [{ from: windowStart, to: windowStop }], `${lateWhy(lateAfter, 'while it was being deleted')}; check the window by hand`);
        } else if (range.nextLevelPageViews !== undefined) {
          await query('DELETE FROM strata_prune_partial WHERE table_name = ? AND window_start = ?', [table, windowStart]);
        }
      }
      result.complete = !leftBehind;
    } catch (error) {
      lost = connectionLost(error, handle);
      const failure = lost ?? describeShardError(error, handle);
      this.log.warn(`prune of ${table} on ${handle.label} failed`, failure);
      result.stoppedBy = 'failed';
      result.error = failure.message;
    }
    return { result: this.finish(result, started, emit), lost };
  }

  /**
   * One attempt at dropping partitions. The raw table is locked against inserts (WRITE) first; under the lock each
   * partition is checked for rows above the noted id (an index range read on the primary key), and only the ones
   * without are dropped. Any UNLOCK happens before the caller touches another table.
   */
  private async dropChecked(query: Query, table: RetentionTable, drops: TablePrune['drops'], checkedUpTo: number | undefined) {
    const names = drops.map((drop) => drop.name);
    if (checkedUpTo === undefined) {
      await query(dropPartitionsSql(table, names), [], { timeoutMs: DROP_DEADLINE_MS });
      return { dropped: names, late: new Map<string, number>(), lockedMs: undefined };
    }
    await query(`LOCK TABLES ${INGESTED_TABLE} WRITE`, [], { timeoutMs: DROP_DEADLINE_MS });
    const lockedAt = performance.now();
    try {
      const check = lateRowsInPartitionsSql(table, names, checkedUpTo);
      const late = new Map<string, number>();
      for (const row of await query<Array<{ w: number | string; n: number | string }>>(check.sql, check.params)) {
        const at = Number(row.w) * 1000;
        const holder = drops.find((drop) => at < Date.parse(drop.to) && (drop.from === null || at >= Date.parse(drop.from)));
        if (holder) late.set(holder.name, (late.get(holder.name) ?? 0) + Number(row.n));
      }
      const dropped = names.filter((name) => !late.has(name));
      if (dropped.length > 0) await query(dropPartitionsSql(table, dropped), [], { timeoutMs: DROP_DEADLINE_MS });
      return { dropped, late, lockedMs: Math.round(performance.now() - lockedAt) };
    } finally {
      await query('UNLOCK TABLES');
    }
  }

  private finish(result: TablePruneResult, started: number, emit: (kind: PruneProgress['kind'], message?: string) => void): TablePruneResult {
    result.elapsedMs = Date.now() - started;
    emit('table-finished', result.stoppedBy);
    return result;
  }

  private async recordTable(handle: ShardHandle, plan: TablePrune, context: RunContext, startedAt: Date): Promise<void> {
    const result = plan.result!;
    const starts = [...plan.drops.map((partition) => partition.from ?? partition.to), ...plan.deletes.map((range) => range.from)].sort();
    const entry: MaintenanceRunEntry = {
      job: 'prune',
      runId: context.runId,
      shard: handle.index,
      level: RETAINED_TABLES[plan.table].label,
      windowStart: starts[0] ? new Date(starts[0]) : null,
      windowEnd: new Date(plan.cutoff),
      trigger: context.trigger,
      host: this.host,
      startedAt,
      finishedAt: this.clock(),
      outcome:
        result.stoppedBy === 'failed'
          ? 'failed'
          : result.stoppedBy === 'cancelled'
            ? 'cancelled'
            : result.stoppedBy === 'time-budget' || plan.kept.some((kept) => kept.reason === 'table-locked')
              ? 'partial'
              : 'ok',
      rowsRemoved: removedRows(plan),
      fencingToken: context.fencingToken,
      detail: describeTable(plan),
      error: result.error ?? null,
    };
    await this.state.history.record(entry);
  }
}
