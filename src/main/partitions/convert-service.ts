import type { Unsubscribe } from '../../shared/api';
import { ErrorCode, StrataError, isStrataError } from '../../shared/errors';
import type { ConversionEvent, ConversionPlanReport, ConversionReport, ShardConversionPlan, ShardConversionResult, TableConversionPlan } from '../../shared/partitions';
import type { RetentionPolicy } from '../../shared/rollup';
import { describeShardError, type ClusterConnections, type ShardHandle, type ShardSession } from '../cluster/connections';
import { isPartitioned as hasPartitions, readTablePartitions, type MetadataQuery } from '../cluster/partition-metadata';
import type { ShardActivityRegistry } from '../conflicts/registry';
import { Emitter } from '../lifecycle/emitter';
import { asProblem, type Problem } from '../lifecycle/problem';
import { WorkTracker } from '../lifecycle/work-tracker';
import type { ScopedLogger } from '../log';
import { acquireNamedLock, releaseNamedLock } from '../state';
import { PARTITION_SCHEMES, type PartitionedTable } from '../schema/partitions';
import { planConversion, requireManagedTable, type ConversionInput, type TableIndex } from './convert-planner';
import { validateKeepAhead, type KeepAheadOptions } from './planner';
import { PARTITION_LOCK_NAME, PARTITION_LOCK_WAIT_SECONDS } from './service';

export type { ConversionEvent, ConversionPlanReport, ConversionReport, ShardConversionResult };

export interface ConversionRequest {
  table: string;
  /** Shard indexes to convert; all shards when absent. An unknown index refuses the whole request. */
  shards?: number[];
}

export interface ConversionRunOptions extends ConversionRequest {
  onProgress?: (event: ConversionEvent) => void;
  /** Aborting stops the running ALTERs (KILL QUERY): the server rolls them back and the tables stay as they were. */
  signal?: AbortSignal;
}

/** Converts an unpartitioned analytics table into Strata's partitioned layout on every shard. */
export interface TableConverter {
  /** Size, estimated time, warnings and the exact ALTER per shard; changes nothing. */
  plan(request: ConversionRequest): Promise<ConversionPlanReport>;
  /** Re-plans each shard under the partition lock and runs its ALTER; shards in parallel. */
  convert(request: ConversionRunOptions): Promise<ConversionReport>;
  /** Progress of every conversion this process runs, whoever started it. */
  onProgress(listener: (event: ConversionEvent) => void): Unsubscribe;
  /** Stops running conversions (they roll back) and waits for them; afterwards every call refuses to start. */
  dispose(): Promise<void>;
}

export interface TableConverterOptions {
  clock?: () => Date;
  /** Per-table overrides of DEFAULT_KEEP_AHEAD. */
  keepAhead?: KeepAheadOptions;
  /** What retention keeps; older rows go into one first partition. DEFAULT_RETENTION when absent. */
  retention?: RetentionPolicy;
  /** How often the running ALTER's progress is read. */
  progressIntervalMs?: number;
  /** When given, each shard is claimed for `convert` first, and skipped (`blocked`) while a backup runs there. */
  activities?: ShardActivityRegistry;
}

type Query = MetadataQuery;
type TableState = Omit<ConversionInput, 'oldest' | 'now' | 'keepAhead' | 'retention'>;
/** The ALTER's session: `query` reads, `count` scans the table, `run` logs a DDL statement first and runs it. */
type Session = { query: Query; count: Query; run: Query };

interface AlterOutcome {
  outcome: ShardConversionResult['outcome'];
  rowsBefore: number | null;
  rowsAfter: number | null;
  problem?: Problem;
}

/** ER_QUERY_INTERRUPTED: what the ALTER fails with once KILL QUERY reached it. */
const QUERY_INTERRUPTED = 1317;

/** The server's error number of a failed statement, also when the session wrapped it in a coded error. */
function errnoOf(error: unknown): number | undefined {
  const driver = (error as { errno?: number; cause?: { errno?: number } } | undefined) ?? {};
  return driver.errno ?? driver.cause?.errno;
}

async function readTableState(query: Query, table: PartitionedTable): Promise<TableState> {
  const where = 'TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?';
  const [size] = await query<Array<{ rows: number | null; data: number | null; index: number | null }>>(
    `SELECT TABLE_ROWS AS \`rows\`, DATA_LENGTH AS data, INDEX_LENGTH AS \`index\` FROM information_schema.TABLES WHERE ${where} AND TABLE_TYPE = 'BASE TABLE'`,
    [table],
  );
  const state: TableState = { table, columns: [], indexes: [], partitioned: false, estimatedRows: 0, dataBytes: 0, indexBytes: 0 };
  if (!size) return state;
  const columns = await query<Array<{ name: string; type: string; nullable: string }>>(
    `SELECT COLUMN_NAME AS name, DATA_TYPE AS type, IS_NULLABLE AS nullable FROM information_schema.COLUMNS WHERE ${where} ORDER BY ORDINAL_POSITION`,
    [table],
  );
  const keyColumns = await query<Array<{ name: string; non_unique: number; column_name: string | null; kind: string }>>(
    `SELECT INDEX_NAME AS name, NON_UNIQUE AS non_unique, COLUMN_NAME AS column_name, INDEX_TYPE AS kind FROM information_schema.STATISTICS WHERE ${where} ORDER BY INDEX_NAME, SEQ_IN_INDEX`,
    [table],
  );
  const indexes = new Map<string, TableIndex>();
  for (const row of keyColumns) {
    const index = indexes.get(row.name) ?? { name: row.name, unique: Number(row.non_unique) === 0, columns: [], kind: row.kind };
    if (row.column_name !== null) index.columns.push(row.column_name);
    indexes.set(row.name, index);
  }
  const foreignKeys = await query<Array<{ name: string }>>(
    'SELECT CONSTRAINT_NAME AS name FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() AND (TABLE_NAME = ? OR REFERENCED_TABLE_NAME = ?)',
    [table, table],
  );
  return {
    ...state,
    columns: columns.map((column) => ({ name: column.name, type: column.type, nullable: column.nullable === 'YES' })),
    indexes: [...indexes.values()],
    partitioned: await isPartitioned(query, table),
    foreignKeys: foreignKeys.map((key) => key.name),
    estimatedRows: Number(size.rows ?? 0),
    dataBytes: Number(size.data ?? 0),
    indexBytes: Number(size.index ?? 0),
  };
}

async function exactCount(query: Query, table: PartitionedTable): Promise<number> {
  const [row] = await query<Array<{ n: number }>>(`SELECT COUNT(*) AS n FROM ${table}`);
  return Number(row?.n ?? 0);
}

async function isPartitioned(query: Query, table: PartitionedTable): Promise<boolean> {
  return hasPartitions(await readTablePartitions(query, table));
}

/** What information_schema.PROCESSLIST says about the ALTER: MariaDB reports stages and a per-stage PROGRESS, MySQL neither. */
function readProgress(row: Record<string, unknown>): { percent: number | null; stage: string | null } {
  const stage = typeof row.STATE === 'string' && row.STATE !== '' ? row.STATE : null;
  if (!('PROGRESS' in row)) return { percent: null, stage };
  const current = Number(row.STAGE);
  const stages = Number(row.MAX_STAGE);
  if (!(stages > 0) || !(current >= 1)) return { percent: 0, stage };
  // For a COPY ALTER, stage 1 of 2 copies the rows and stage 2 rebuilds the secondary indexes.
  const percent = ((current - 1) * 100 + Number(row.PROGRESS)) / stages;
  return { percent: Math.min(100, Math.max(0, Number.isFinite(percent) ? percent : 0)), stage };
}

/** Plans and runs conversions on every shard in parallel; a shard that is down is reported and the others are done. */
export class ClusterTableConverter implements TableConverter {
  private readonly clock: () => Date;
  private readonly keepAhead: KeepAheadOptions | undefined;
  private readonly retention: RetentionPolicy | undefined;
  private readonly progressIntervalMs: number;
  private readonly activities: ShardActivityRegistry | undefined;
  private readonly work = new WorkTracker('table conversion');
  private readonly progress: Emitter<ConversionEvent>;

  constructor(
    private readonly connections: ClusterConnections,
    private readonly log: ScopedLogger,
    options: TableConverterOptions = {},
  ) {
    if (options.keepAhead) validateKeepAhead(options.keepAhead);
    this.clock = options.clock ?? (() => new Date());
    this.keepAhead = options.keepAhead;
    this.retention = options.retention;
    this.progressIntervalMs = options.progressIntervalMs ?? 1000;
    this.activities = options.activities;
    this.progress = new Emitter(log, 'conversion progress');
  }

  plan(request: ConversionRequest): Promise<ConversionPlanReport> {
    return this.work.track(async () => {
      const table = requireManagedTable(request.table);
      const targets = this.targets(request.shards);
      const now = this.clock();
      const shards = await Promise.all(
        targets.map(async (handle): Promise<ShardConversionPlan> => {
          const base = { index: handle.index, name: handle.label };
          try {
            const plan = await this.planShard((sql, params) => this.connections.query(handle.index, sql, params), table, now);
            return { ...base, reachable: true, plan };
          } catch (error) {
            this.log.warn(`conversion plan could not read ${handle.label}`, error);
            return { ...base, reachable: false, problem: asProblem(describeShardError(error, handle)) };
          }
        }),
      );
      return { table, plannedAt: now.toISOString(), shards };
    });
  }

  convert(request: ConversionRunOptions): Promise<ConversionReport> {
    return this.work.track(async () => {
      const table = requireManagedTable(request.table);
      const targets = this.targets(request.shards);
      const signal = request.signal ? AbortSignal.any([request.signal, this.work.signal]) : this.work.signal;
      const emit = (event: ConversionEvent) => this.progress.emit(event, request.onProgress);
      const shards = await Promise.all(targets.map((handle) => this.claimAndConvert(handle, table, emit, signal)));
      return { table, ok: shards.every((shard) => shard.outcome === 'converted' || shard.outcome === 'already-partitioned'), shards };
    });
  }

  onProgress(listener: (event: ConversionEvent) => void): Unsubscribe {
    return this.progress.on(listener);
  }

  async dispose(): Promise<void> {
    await this.work.dispose();
    this.progress.clear();
  }

  /** Every shard asked for, or all; an unknown index throws before any shard is touched. */
  private targets(indexes: number[] | undefined): ShardHandle[] {
    const wanted = indexes ? [...new Set(indexes)] : this.connections.shards.map((handle) => handle.index);
    return wanted.map((index) => this.connections.shard(index));
  }

  /** Plans from the table's metadata, then reads MIN of the partition column only when there is something to convert. */
  private async planShard(query: Query, table: PartitionedTable, now: Date): Promise<TableConversionPlan> {
    const state = await readTableState(query, table);
    const input: ConversionInput = { ...state, oldest: null, now, keepAhead: this.keepAhead, retention: this.retention };
    const first = planConversion(input);
    if (first.action !== 'convert') return first;
    const [row] = await query<Array<{ oldest: Date | null }>>(`SELECT MIN(${PARTITION_SCHEMES[table].column}) AS oldest FROM ${table}`);
    return planConversion({ ...input, oldest: row?.oldest ?? null });
  }

  private async claimAndConvert(handle: ShardHandle, table: PartitionedTable, emit: (event: ConversionEvent) => void, signal: AbortSignal): Promise<ShardConversionResult> {
    if (!this.activities) return this.convertShard(handle, table, emit, signal);
    let claim;
    try {
      claim = await this.activities.claim(handle.index, 'convert', `converting ${table}`);
    } catch (error) {
      // A refused claim skips the shard; an unreachable registry fails it, since nobody can tell whether a backup runs there.
      const blocked = isStrataError(error) && error.code === ErrorCode.ShardBusy;
      this.log.warn(`conversion ${blocked ? 'skipped' : 'could not start'} on ${handle.label}`, error);
      const result: ShardConversionResult = { index: handle.index, name: handle.label, outcome: blocked ? 'blocked' : 'failed', rowsBefore: null, rowsAfter: null, elapsedMs: 0, problem: asProblem(error) };
      emit({ kind: 'shard-finished', shard: handle.index, shardName: handle.label, table, result });
      return result;
    }
    try {
      return await this.convertShard(handle, table, emit, signal);
    } finally {
      await claim.release().catch((error: unknown) => this.log.warn(`could not release the conversion claim on ${handle.label}; it lapses on its own`, error));
    }
  }

  private async convertShard(handle: ShardHandle, table: PartitionedTable, emit: (event: ConversionEvent) => void, signal: AbortSignal): Promise<ShardConversionResult> {
    const shard = { shard: handle.index, shardName: handle.label, table };
    const started = Date.now();
    let plan: TableConversionPlan | undefined;
    let rowsBefore: number | null = null;
    let rowsAfter: number | null = null;
    const finish = (outcome: ShardConversionResult['outcome'], problem?: Problem): ShardConversionResult => ({
      index: handle.index,
      name: handle.label,
      outcome,
      plan,
      rowsBefore,
      rowsAfter,
      elapsedMs: Date.now() - started,
      problem,
    });
    const cancelled = (message: string) => finish('cancelled', { code: ErrorCode.Cancelled, message: `${handle.label}: ${message}` });
    let session: ShardSession | undefined;
    let result: ShardConversionResult;
    try {
      if (signal.aborted) {
        result = cancelled(`cancelled before the conversion started; ${table} is unchanged`);
      } else {
        const opened = (session = await this.connections.session(handle.index, { signal }));
        const query: Query = <T>(sql: string, params: unknown[] = []) => opened.query<T>(sql, params);
        // An exact count under the write lock reads the whole table: as long as a long write may take.
        const count: Query = <T>(sql: string, params: unknown[] = []) => opened.query<T>(sql, params, { kind: 'write' });
        const run: Query = <T>(sql: string, params: unknown[] = []) => {
          this.log.info(`${handle.label}: ${sql}`);
          return opened.query<T>(sql, params, { kind: 'ddl' });
        };
        // GET_LOCK belongs to the session: the lock, the fresh read, the table lock and the ALTER share this connection.
        if (!(await acquireNamedLock(opened, PARTITION_LOCK_NAME, PARTITION_LOCK_WAIT_SECONDS))) {
          throw new StrataError(
            ErrorCode.ConversionFailed,
            `${handle.label}: lock ${PARTITION_LOCK_NAME} is still held after ${PARTITION_LOCK_WAIT_SECONDS} s by another session changing partitions; try again when it has finished`,
          );
        }
        let released = false;
        try {
          // Read again under the lock: someone may have converted or changed the table since the plan was shown.
          plan = await this.planShard(query, table, this.clock());
          if (plan.action === 'refused') result = finish('refused', plan.problem);
          else if (plan.action === 'already-partitioned' || plan.statement === null) result = finish('already-partitioned');
          else if (signal.aborted) result = cancelled(`cancelled before the ALTER started; ${table} is unchanged`);
          else {
            const done = await this.alter(handle, { query, count, run }, { ...plan, statement: plan.statement }, emit, signal);
            rowsBefore = done.rowsBefore;
            rowsAfter = done.rowsAfter;
            result = finish(done.outcome, done.problem);
          }
        } finally {
          released = await releaseNamedLock(opened, PARTITION_LOCK_NAME);
        }
        // A session the shard dropped during the ALTER must not go back to the pool.
        if (released) opened.release();
        else opened.destroy();
      }
    } catch (error) {
      session?.destroy();
      if (signal.aborted && isStrataError(error) && error.code === ErrorCode.Cancelled && session === undefined) {
        // Cancelled while waiting for a connection: nothing was done on the shard.
        result = cancelled(`cancelled before the conversion started; ${table} is unchanged`);
      } else {
        const failure = describeShardError(error, handle);
        this.log.warn(`conversion failed on ${handle.label}`, failure);
        result = finish('failed', asProblem(failure));
      }
    }
    emit({ kind: 'shard-finished', ...shard, result });
    return result;
  }

  /**
   * Counts, runs the ALTER and counts again under one write lock, so the two counts see the same rows. A second
   * connection reports the ALTER's progress and, on abort, kills it; the server then rolls it back.
   */
  private async alter(handle: ShardHandle, session: Session, plan: TableConversionPlan & { statement: string }, emit: (event: ConversionEvent) => void, signal: AbortSignal): Promise<AlterOutcome> {
    const { query, count, run } = session;
    const table = plan.table as PartitionedTable;
    const failed = (message: string): Problem => ({ code: ErrorCode.ConversionFailed, message: `${handle.label}: ${message}` });
    await run(`LOCK TABLES ${table} WRITE`);
    try {
      const rowsBefore = await exactCount(count, table);
      emit({ kind: 'shard-started', shard: handle.index, shardName: handle.label, table, rowsBefore, estimatedSeconds: plan.estimatedSeconds });
      const [connectionId] = await query<Array<{ id: number }>>('SELECT CONNECTION_ID() AS id');
      const watcher = this.watch(handle, table, Number(connectionId?.id), emit, signal);
      let failure: unknown;
      try {
        await run(plan.statement);
      } catch (error) {
        failure = error;
      } finally {
        await watcher.stop();
      }
      if (failure === undefined) {
        const rowsAfter = await exactCount(count, table);
        if (!(await isPartitioned(query, table))) {
          return { outcome: 'failed', rowsBefore, rowsAfter, problem: failed(`the ALTER finished but ${table} is not partitioned; check it with SHOW CREATE TABLE`) };
        }
        if (rowsAfter !== rowsBefore) {
          return { outcome: 'failed', rowsBefore, rowsAfter, problem: failed(`${table} held ${rowsBefore} rows before the ALTER and ${rowsAfter} after it, under a write lock; check the table before using it`) };
        }
        return { outcome: 'converted', rowsBefore, rowsAfter };
      }
      // The shard may be gone with the connection: then whether the ALTER completed is unknown until it is back.
      const after = await Promise.all([exactCount(count, table), isPartitioned(query, table)]).catch(() => undefined);
      const rowsAfter = after?.[0] ?? null;
      const state = after === undefined ? `whether ${table} was converted is unknown until the shard is back (strata partitions list shows it)` : after[1] ? `${table} is partitioned nonetheless` : `${table} is unchanged`;
      if (watcher.killed && errnoOf(failure) === QUERY_INTERRUPTED) {
        return { outcome: 'cancelled', rowsBefore, rowsAfter, problem: { code: ErrorCode.Cancelled, message: `${handle.label}: cancelled; the ALTER was stopped and rolled back, ${state}` } };
      }
      this.log.warn(`conversion ALTER failed on ${handle.label}`, failure);
      return { outcome: 'failed', rowsBefore, rowsAfter, problem: { code: ErrorCode.ConversionFailed, message: `${describeShardError(failure, handle).message}; ${state}` } };
    } finally {
      await query('UNLOCK TABLES').catch(() => {});
    }
  }

  /** Polls information_schema.PROCESSLIST for the ALTER's connection from another one, and kills it on abort. */
  private watch(handle: ShardHandle, table: PartitionedTable, connectionId: number, emit: (event: ConversionEvent) => void, signal: AbortSignal) {
    const started = Date.now();
    let killed = false;
    let stopped = false;
    let polling = Promise.resolve();
    const kill = () => {
      killed = true;
      this.log.info(`${handle.label}: KILL QUERY ${connectionId} (conversion cancelled)`);
      this.connections.query(handle.index, 'KILL QUERY ?', [connectionId]).catch((error: unknown) => this.log.warn(`could not stop the conversion on ${handle.label}`, error));
    };
    const poll = async () => {
      try {
        const [row] = await this.connections.query<Array<Record<string, unknown>>>(handle.index, 'SELECT * FROM information_schema.PROCESSLIST WHERE ID = ?', [connectionId]);
        // Between the statements the connection shows no ALTER: nothing to report, and no bar going back to 0.
        if (!row || stopped || typeof row.INFO !== 'string' || !row.INFO.startsWith('ALTER TABLE')) return;
        // An abort that came just before the ALTER reached the server killed nothing: kill it again.
        if (killed) kill();
        emit({ kind: 'progress', shard: handle.index, shardName: handle.label, table, ...readProgress(row), elapsedMs: Date.now() - started });
      } catch (error) {
        this.log.debug(`could not read the conversion progress on ${handle.label}`, error);
      }
    };
    const timer = setInterval(() => {
      polling = polling.then(poll);
    }, this.progressIntervalMs);
    signal.addEventListener('abort', kill, { once: true });
    if (signal.aborted) kill();
    return {
      get killed() {
        return killed;
      },
      async stop() {
        stopped = true;
        clearInterval(timer);
        signal.removeEventListener('abort', kill);
        await polling;
      },
    };
  }
}
