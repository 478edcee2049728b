import { hostname, userInfo } from 'node:os';
import type { SchemaCheckReport, ShardSchemaCheck } from '../../shared/contract';
import { ErrorCode, StrataError, isStrataError } from '../../shared/errors';
import { describeShardError, type ClusterConnections, type ShardHandle, type ShardSession } from '../cluster/connections';
import { readPartitionMetadata, type PartitionMetadata } from '../cluster/partition-metadata';
import { asProblem } from '../lifecycle/problem';
import { WorkTracker } from '../lifecycle/work-tracker';
import type { ScopedLogger } from '../log';
import { withNamedLock } from '../state';
import { findDrift, snapshotFromRows, type ColumnRow, type IndexRow, type PartitioningRow, type TableRow } from './drift';
import { EXPECTED_TABLES } from './expected';
import { CREATE_MIGRATIONS_TABLE_SQL, LATEST_VERSION, MIGRATIONS, MIGRATIONS_TABLE, type Migration } from './migrations';
import { planMigrations, type AppliedMigration } from './planner';

/** Server-wide MySQL named lock: a second console waits for the first instead of migrating alongside it. */
export const SCHEMA_LOCK_NAME = 'strata_schema';
export const SCHEMA_LOCK_WAIT_SECONDS = 10;

export interface ShardApplyResult {
  index: number;
  name: string;
  outcome: 'up-to-date' | 'applied' | 'failed';
  /** Versions this run applied and recorded, in order; a failed shard may have some before its failure. */
  appliedVersions: number[];
  /** Highest recorded version after the run; absent when the shard could not be read. */
  schemaVersion?: number;
  problem?: { code: number; message: string };
}

/** The outcome of `apply` on every shard it was asked to migrate; `ok` only when none failed. */
export interface SchemaApplyReport {
  ok: boolean;
  latestVersion: number;
  shards: ShardApplyResult[];
}

/** Progress of `apply`, shard by shard, for a progress display. */
export type SchemaApplyEvent =
  | { kind: 'waiting-for-lock'; shard: number; shardName: string }
  | { kind: 'migration-started'; shard: number; shardName: string; version: number; name: string }
  | { kind: 'migration-applied'; shard: number; shardName: string; version: number; name: string }
  | { kind: 'shard-finished'; shard: number; shardName: string; result: ShardApplyResult };

export interface SchemaApplyOptions {
  onProgress?: (event: SchemaApplyEvent) => void;
  /** Shard indexes to migrate; all shards when absent. An unknown index refuses the whole run. */
  shards?: number[];
}

/** Migrates shards forward and compares them with the schema this build expects. */
export interface SchemaService {
  apply(options?: SchemaApplyOptions): Promise<SchemaApplyReport>;
  check(): Promise<SchemaCheckReport>;
  /** Waits for a running apply or check to finish; afterwards both refuse to start. */
  dispose(): Promise<void>;
}

export interface SchemaServiceOptions {
  /** Recorded in applied_by; defaults to this machine's host name. */
  host?: string;
  clock?: () => Date;
}

function shardWhere(handle: ShardHandle): string {
  return `${handle.label} (${handle.config.host}:${handle.config.port})`;
}

/** What the server said about a failed statement; the session wraps it in a message naming the shard, said once here. */
function serverMessage(error: unknown): string {
  const driver = isStrataError(error) && error.code === ErrorCode.ShardQueryFailed && error.cause instanceof Error ? error.cause : error;
  return (driver as { message?: string }).message ?? String(driver);
}

function firstLineOf(sql: string): string {
  return (sql.trim().split('\n')[0] ?? '').replace(/\s*\($/, '');
}

/** One row per partitioned table and method/expression pair, as the drift check compares them. */
function distinctPartitioning(partitions: readonly PartitionMetadata[]): PartitioningRow[] {
  const seen = new Map<string, PartitioningRow>();
  for (const partition of partitions) {
    if (partition.name === null) continue;
    const row = { table_name: partition.table, partition_method: partition.method, partition_expression: partition.expression };
    seen.set(JSON.stringify(row), row);
  }
  return [...seen.values()];
}

function whoAmI(host: string): string {
  try {
    return `${userInfo().username}@${host}`;
  } catch {
    // Containers may run as a uid without a passwd entry; the host still says where it ran.
    return host;
  }
}

/** Runs migrations per shard in parallel, each under the schema lock; reads drift from information_schema. */
export class ClusterSchemaService implements SchemaService {
  private readonly clock: () => Date;
  private readonly appliedBy: string;
  private readonly work = new WorkTracker('schema');

  constructor(
    private readonly connections: ClusterConnections,
    private readonly log: ScopedLogger,
    options: SchemaServiceOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.appliedBy = whoAmI(options.host ?? hostname()).slice(0, 255);
  }

  apply(options: SchemaApplyOptions = {}): Promise<SchemaApplyReport> {
    return this.work.track(async () => {
      const indexes = options.shards ? [...new Set(options.shards)] : this.connections.shards.map((handle) => handle.index);
      const targets = indexes.map((index) => this.connections.shard(index));
      const emit = (event: SchemaApplyEvent) => {
        try {
          options.onProgress?.(event);
        } catch (error) {
          this.log.warn('a schema progress listener failed', error);
        }
      };
      const shards = await Promise.all(targets.map((handle) => this.applyShard(handle, emit)));
      return { ok: shards.every((shard) => shard.outcome !== 'failed'), latestVersion: LATEST_VERSION, shards };
    });
  }

  check(): Promise<SchemaCheckReport> {
    return this.work.track(async () => {
      const shards = await Promise.all(this.connections.shards.map((handle) => this.checkShard(handle)));
      return {
        checkedAt: this.clock().toISOString(),
        expectedVersion: LATEST_VERSION,
        clean: shards.every((shard) => shard.reachable && shard.drift.length === 0),
        shards,
      };
    });
  }

  dispose(): Promise<void> {
    return this.work.dispose();
  }

  private async applyShard(handle: ShardHandle, emit: (event: SchemaApplyEvent) => void): Promise<ShardApplyResult> {
    const shard = { shard: handle.index, shardName: handle.label };
    const appliedVersions: number[] = [];
    let opened: ShardSession | undefined;
    let result: ShardApplyResult;
    try {
      const session = (opened = await this.connections.session(handle.index));
      emit({ kind: 'waiting-for-lock', ...shard });
      // GET_LOCK belongs to the session, so the lock, the reads and the DDL all use this one connection.
      result = await withNamedLock(
        session,
        SCHEMA_LOCK_NAME,
        SCHEMA_LOCK_WAIT_SECONDS,
        () => this.migrateLocked(handle, session, appliedVersions, emit),
        () => {
          throw new StrataError(
            ErrorCode.MigrationFailed,
            `${shardWhere(handle)}: lock ${SCHEMA_LOCK_NAME} is still held after ${SCHEMA_LOCK_WAIT_SECONDS} s by another session (another console migrating this server, or a slow migration of another shard database on it); try again when it has finished`,
          );
        },
      );
      session.release();
    } catch (error) {
      const failure = describeShardError(error, handle);
      this.log.warn(`schema apply failed on ${handle.label}`, failure);
      // The session may be broken or mid-statement; a fresh one is cheaper than doubt.
      opened?.destroy();
      result = { index: handle.index, name: handle.label, outcome: 'failed', appliedVersions, problem: asProblem(failure) };
    }
    emit({ kind: 'shard-finished', ...shard, result });
    return result;
  }

  private async migrateLocked(
    handle: ShardHandle,
    session: ShardSession,
    appliedVersions: number[],
    emit: (event: SchemaApplyEvent) => void,
  ): Promise<ShardApplyResult> {
    await session.query(CREATE_MIGRATIONS_TABLE_SQL, [], { kind: 'ddl' });
    const records = await session.query<AppliedMigration[]>(`SELECT version, name, checksum FROM ${MIGRATIONS_TABLE} ORDER BY version`);
    const plan = planMigrations(MIGRATIONS, records);
    const base = { index: handle.index, name: handle.label };
    if (plan.kind === 'refuse') throw new StrataError(ErrorCode.MigrationFailed, `${shardWhere(handle)}: ${plan.reason}`);
    if (plan.kind === 'up-to-date') return { ...base, outcome: 'up-to-date', appliedVersions, schemaVersion: plan.version };
    for (const migration of plan.pending) {
      emit({ kind: 'migration-started', shard: handle.index, shardName: handle.label, version: migration.version, name: migration.name });
      await this.runMigration(handle, session, migration);
      appliedVersions.push(migration.version);
      this.log.info(`${handle.label}: applied migration ${migration.version} (${migration.name})`);
      emit({ kind: 'migration-applied', shard: handle.index, shardName: handle.label, version: migration.version, name: migration.name });
    }
    return { ...base, outcome: 'applied', appliedVersions, schemaVersion: appliedVersions.at(-1) };
  }

  /** DDL commits as it goes, so the record is written only after every statement succeeded. */
  private async runMigration(handle: ShardHandle, session: ShardSession, migration: Migration): Promise<void> {
    const statements = migration.statements(this.clock());
    for (const [position, sql] of statements.entries()) {
      try {
        await session.query(sql, [], { kind: 'ddl' });
      } catch (error) {
        const cause = serverMessage(error);
        throw new StrataError(
          ErrorCode.MigrationFailed,
          `${shardWhere(handle)}: migration ${migration.version} (${migration.name}) failed at statement ${position + 1} of ${statements.length} (${firstLineOf(sql)}): ${cause}`,
          { cause: error },
        );
      }
    }
    await session.query(
      `INSERT INTO ${MIGRATIONS_TABLE} (version, name, checksum, applied_at, applied_by) VALUES (?, ?, ?, ?, ?)`,
      [migration.version, migration.name, migration.checksum, this.clock(), this.appliedBy],
      { kind: 'write' },
    );
  }

  private async checkShard(handle: ShardHandle): Promise<ShardSchemaCheck> {
    const base: ShardSchemaCheck = { index: handle.index, name: handle.label, reachable: false, drift: [] };
    const query = <T>(sql: string, params: unknown[] = []) => this.connections.query<T>(handle.index, sql, params);
    const expectedNames = EXPECTED_TABLES.map((table) => table.name);
    const inOurTables = 'TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?)';
    try {
      const [versionRow] = await query<Array<{ version: string }>>('SELECT VERSION() AS version');
      const [tables, columns, indexes, partitions] = await Promise.all([
        query<TableRow[]>(
          `SELECT TABLE_NAME AS table_name, ENGINE AS engine, TABLE_COLLATION AS table_collation FROM information_schema.TABLES WHERE ${inOurTables}`,
          [[...expectedNames, MIGRATIONS_TABLE]],
        ),
        query<ColumnRow[]>(
          `SELECT TABLE_NAME AS table_name, COLUMN_NAME AS column_name, COLUMN_TYPE AS column_type, IS_NULLABLE AS is_nullable
             FROM information_schema.COLUMNS WHERE ${inOurTables} ORDER BY TABLE_NAME, ORDINAL_POSITION`,
          [expectedNames],
        ),
        query<IndexRow[]>(
          `SELECT TABLE_NAME AS table_name, INDEX_NAME AS index_name, COLUMN_NAME AS column_name, SEQ_IN_INDEX AS seq_in_index, NON_UNIQUE AS non_unique
             FROM information_schema.STATISTICS WHERE ${inOurTables}`,
          [expectedNames],
        ),
        readPartitionMetadata(query, expectedNames),
      ]);
      const partitioning = distinctPartitioning(partitions);
      const hasRecords = tables.some((table) => table.table_name === MIGRATIONS_TABLE);
      const records = hasRecords
        ? await query<AppliedMigration[]>(`SELECT version, name, checksum FROM ${MIGRATIONS_TABLE} ORDER BY version`)
        : undefined;
      const snapshot = snapshotFromRows(
        { tables: tables.filter((table) => table.table_name !== MIGRATIONS_TABLE), columns, indexes, partitioning },
        records,
      );
      const schemaVersion = records?.length ? Math.max(...records.map((record) => record.version)) : undefined;
      return { ...base, reachable: true, serverVersion: versionRow?.version, schemaVersion, drift: findDrift(snapshot, EXPECTED_TABLES, MIGRATIONS) };
    } catch (error) {
      this.log.warn(`schema check could not read ${handle.label}`, error);
      return { ...base, problem: asProblem(error) };
    }
  }
}
