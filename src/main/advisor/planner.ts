import type { AdviceFinding } from '../../shared/monitor';
import { formatBytes } from '../../shared/format';
import type { PartitionMetadata } from '../cluster/partition-metadata';
import { EXPECTED_TABLES } from '../schema/expected';
import { PARTITION_SCHEMES, type PartitionedTable } from '../schema/partitions';

/**
 * The config advisor's rules: one shard's global variables, RAM, indexes and partitioning against the cluster's
 * recommended my.cnf and schema. Pure: the service reads the shard and hands everything in here.
 */

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** The recommended my.cnf of an analytics shard. */
export const RECOMMENDED = {
  bufferPoolShareOfRam: 0.7,
  bufferPoolLowestShare: 0.5,
  bufferPoolHighestShare: 0.8,
  logFileSizeBytes: 1 * GiB,
  flushLogAtTrxCommit: 2,
} as const;

/** How the RAM a buffer pool is measured against was found; `unknown` says why there is no figure. */
export type RamSource = { kind: 'node-exporter'; url: string } | { kind: 'this-machine' } | { kind: 'unknown'; reason: string };

/** One index as information_schema.STATISTICS lists it, its columns in order. */
export interface ShardIndex {
  table: string;
  name: string;
  columns: string[];
}

/** Everything the advisor reads from one shard. */
export interface ShardSettings {
  shard: number;
  shardName: string;
  /** SELECT VERSION(): `11.4.3-MariaDB-1`, `8.0.36`. */
  version: string;
  /** SHOW GLOBAL VARIABLES, names in lower case. */
  variables: Readonly<Record<string, string>>;
  ramBytes: number | undefined;
  ramSource: RamSource;
  /** The analytics tables that exist on the shard. */
  tables: readonly string[];
  indexes: readonly ShardIndex[];
  partitions: readonly PartitionMetadata[];
}

export type ServerFlavour = { kind: 'mariadb'; major: number; minor: number } | { kind: 'mysql'; major: number; minor: number; patch: number };

/** MariaDB or MySQL, and which release, from VERSION() (and version_comment, which names MariaDB on some builds). */
export function serverFlavour(version: string, versionComment = ''): ServerFlavour {
  const [major = 0, minor = 0, patch = 0] = (/^(\d+)\.(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
  if (/mariadb/i.test(version) || /mariadb/i.test(versionComment)) return { kind: 'mariadb', major, minor };
  return { kind: 'mysql', major, minor, patch };
}

const atLeast = (flavour: { major: number; minor: number; patch?: number }, major: number, minor: number, patch = 0) =>
  flavour.major !== major ? flavour.major > major : flavour.minor !== minor ? flavour.minor > minor : (flavour.patch ?? 0) >= patch;

/** A size as my.cnf and SET accept it: whole GiB or MiB when it divides evenly, else bytes. */
export function cnfSize(bytes: number): string {
  if (bytes === 0) return '0';
  if (bytes % GiB === 0) return `${bytes / GiB}G`;
  if (bytes % MiB === 0) return `${bytes / MiB}M`;
  return String(bytes);
}

/**
 * The statement(s) that set a variable and keep it over a restart. MySQL 8 has SET PERSIST (PERSIST_ONLY for a
 * variable that only takes effect at start); MariaDB has no persisted variables, so the my.cnf line is part of the fix.
 */
export function setVariableFix(flavour: ServerFlavour, name: string, value: string | number, options: { dynamic: boolean }): string {
  const sqlValue = typeof value === 'number' ? String(value) : value;
  const cnfValue = typeof value === 'number' ? cnfSize(value) : value;
  if (flavour.kind === 'mysql' && flavour.major >= 8) {
    return options.dynamic ? `SET PERSIST ${name} = ${sqlValue};` : `SET PERSIST_ONLY ${name} = ${sqlValue}; -- then restart mysqld`;
  }
  const cnf = `my.cnf [mysqld]: ${name} = ${cnfValue}`;
  return options.dynamic ? `SET GLOBAL ${name} = ${sqlValue}; and in ${cnf}` : `${cnf}, then restart the server (not settable at runtime on this version)`;
}

/** 70 % of RAM, rounded down to whole 128 MiB (InnoDB rounds the pool to its chunk size anyway). */
export function recommendedBufferPool(ramBytes: number): number {
  const chunk = 128 * MiB;
  return Math.max(chunk, Math.floor((ramBytes * RECOMMENDED.bufferPoolShareOfRam) / chunk) * chunk);
}

const numberVariable = (variables: Readonly<Record<string, string>>, name: string): number | undefined => {
  const text = variables[name];
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
};

type Finding = Omit<AdviceFinding, 'shard' | 'shardName'>;

function bufferPoolFinding(settings: ShardSettings, flavour: ServerFlavour): Finding {
  const subject = 'innodb_buffer_pool_size';
  const actualBytes = numberVariable(settings.variables, subject);
  const actual = actualBytes === undefined ? 'not reported' : formatBytes(actualBytes);
  if (settings.ramBytes === undefined) {
    const reason = settings.ramSource.kind === 'unknown' ? settings.ramSource.reason : 'RAM unknown';
    return {
      subject,
      severity: 'info',
      actual,
      recommended: 'about 70 % of the host RAM',
      message: `unknown RAM (${reason}), so the pool cannot be compared with it; name the shard's node exporter in the profile (shards[].nodeExporterUrl) to check it`,
    };
  }
  const ram = formatBytes(settings.ramBytes);
  const target = recommendedBufferPool(settings.ramBytes);
  const recommended = `${formatBytes(target)} (70 % of ${ram})`;
  if (actualBytes === undefined) return { subject, severity: 'info', actual, recommended, message: 'the server does not report its buffer pool size' };
  const share = actualBytes / settings.ramBytes;
  const percent = `${(share * 100).toFixed(0)} % of ${ram} RAM`;
  if (share < RECOMMENDED.bufferPoolLowestShare || share > RECOMMENDED.bufferPoolHighestShare) {
    const why =
      share < RECOMMENDED.bufferPoolLowestShare
        ? 'under 50 %: the hot partitions of the rollup tables and the realtime indexes do not stay in memory, so chart queries and rollups read from disk'
        : 'over 80 %: little is left for connections, sorts and the OS, and the host may swap or the kernel kill mysqld';
    return { subject, severity: 'warning', actual: `${actual} (${percent})`, recommended, message: `the buffer pool is ${why}`, fix: setVariableFix(flavour, subject, target, { dynamic: true }) };
  }
  return { subject, severity: 'ok', actual: `${actual} (${percent})`, recommended, message: 'within 50-80 % of RAM' };
}

/**
 * Redo log size. MySQL 8.0.30+ sizes the redo log with innodb_redo_log_capacity (innodb_log_file_size is then
 * deprecated and ignored once the capacity is set); MariaDB 10.5+ keeps one redo file of innodb_log_file_size, and
 * MySQL before 8.0.30 has innodb_log_files_in_group files of it. The target is what the recommended
 * `innodb_log_file_size = 1G` gives on each.
 */
function redoLogFinding(settings: ShardSettings, flavour: ServerFlavour): Finding {
  const capacity = numberVariable(settings.variables, 'innodb_redo_log_capacity');
  const why = 'a small redo log makes InnoDB flush dirty pages in bursts during the hourly INSERT … SELECT and the big DELETEs, which stalls ingestion';
  if (capacity !== undefined && flavour.kind === 'mysql') {
    const files = numberVariable(settings.variables, 'innodb_log_files_in_group') ?? 2;
    const target = RECOMMENDED.logFileSizeBytes * files;
    const recommended = `${formatBytes(target)} (innodb_log_file_size = 1G × ${files} files, which innodb_redo_log_capacity replaces since 8.0.30)`;
    if (capacity < target) {
      return { subject: 'innodb_redo_log_capacity', severity: 'warning', actual: formatBytes(capacity), recommended, message: why, fix: setVariableFix(flavour, 'innodb_redo_log_capacity', target, { dynamic: true }) };
    }
    return { subject: 'innodb_redo_log_capacity', severity: 'ok', actual: formatBytes(capacity), recommended, message: 'large enough for the ingestion and rollup writes' };
  }
  const subject = 'innodb_log_file_size';
  const size = numberVariable(settings.variables, subject);
  const recommended = formatBytes(RECOMMENDED.logFileSizeBytes);
  if (size === undefined) return { subject, severity: 'info', actual: 'not reported', recommended, message: 'the server does not report its redo log size' };
  if (size < RECOMMENDED.logFileSizeBytes) {
    // MariaDB resizes the redo log online since 10.9; older MariaDB and MySQL before 8.0.30 need a restart.
    const dynamic = flavour.kind === 'mariadb' ? atLeast(flavour, 10, 9) : false;
    return { subject, severity: 'warning', actual: formatBytes(size), recommended, message: why, fix: setVariableFix(flavour, subject, RECOMMENDED.logFileSizeBytes, { dynamic }) };
  }
  return { subject, severity: 'ok', actual: formatBytes(size), recommended, message: 'large enough for the ingestion and rollup writes' };
}

/** The durability trade-off, said with every flush_log_at_trx_commit finding so nobody changes it blind. */
export const FLUSH_LOG_TRADE_OFF =
  'with 2, a commit is written to the OS at once and flushed to disk about once a second: an OS crash or power loss can lose up to ~1 s of commits, a mysqld crash loses none; in exchange many small ingestion commits no longer each wait for a disk flush';

function flushLogFinding(settings: ShardSettings, flavour: ServerFlavour): Finding {
  const subject = 'innodb_flush_log_at_trx_commit';
  const value = numberVariable(settings.variables, subject);
  const recommended = String(RECOMMENDED.flushLogAtTrxCommit);
  if (value === RECOMMENDED.flushLogAtTrxCommit) return { subject, severity: 'ok', actual: recommended, recommended, message: FLUSH_LOG_TRADE_OFF };
  const fix = setVariableFix(flavour, subject, RECOMMENDED.flushLogAtTrxCommit, { dynamic: true });
  if (value === 0) {
    return { subject, severity: 'warning', actual: '0', recommended, message: `0 flushes only once a second even on a mysqld crash, so even a mysqld crash can lose ~1 s of commits; ${FLUSH_LOG_TRADE_OFF}`, fix };
  }
  return {
    subject,
    severity: 'info',
    actual: value === undefined ? 'not reported' : String(value),
    recommended,
    message: `1 flushes the redo log to disk on every commit (safest, slowest for many small ingestion commits); ${FLUSH_LOG_TRADE_OFF}`,
    fix,
  };
}

const isOff = (text: string | undefined) => text === undefined || ['OFF', '0', 'NO'].includes(text.trim().toUpperCase());

/** MySQL 8 removed the query cache: there is nothing to set, so say so instead of recommending values. */
function queryCacheFindings(settings: ShardSettings, flavour: ServerFlavour): Finding[] {
  const type = settings.variables.query_cache_type;
  const size = numberVariable(settings.variables, 'query_cache_size');
  if (flavour.kind === 'mysql' && (flavour.major >= 8 || type === undefined)) {
    return [{ subject: 'query_cache_type', severity: 'ok', actual: 'removed', message: 'MySQL 8.0 removed the query cache (query_cache_type and query_cache_size no longer exist); nothing to set' }];
  }
  const why =
    flavour.kind === 'mariadb'
      ? 'MariaDB still has the query cache but it is all but deprecated (off by default since 10.1.7): every insert into a table empties its cached results and the cache is one global mutex, so write-heavy ingestion only pays for it'
      : 'the query cache is deprecated since MySQL 5.7.20 and removed in 8.0: every insert empties the cached results of the table and the cache is one global mutex, so write-heavy ingestion only pays for it';
  const findings: Finding[] = [];
  findings.push(
    isOff(type)
      ? { subject: 'query_cache_type', severity: 'ok', actual: type ?? 'OFF', recommended: 'OFF', message: 'the query cache is off, as write-heavy ingestion wants' }
      : { subject: 'query_cache_type', severity: 'warning', actual: type, recommended: 'OFF', message: why, fix: setVariableFix(flavour, 'query_cache_type', 'OFF', { dynamic: true }) },
  );
  if (size !== undefined) {
    findings.push(
      size === 0
        ? { subject: 'query_cache_size', severity: 'ok', actual: '0', recommended: '0', message: 'no memory is held for the query cache' }
        : {
            subject: 'query_cache_size',
            severity: isOff(type) ? 'info' : 'warning',
            actual: formatBytes(size),
            recommended: '0',
            message: isOff(type) ? 'the cache is off but its memory is still allocated' : why,
            fix: setVariableFix(flavour, 'query_cache_size', 0, { dynamic: true }),
          },
    );
  }
  return findings;
}

/** The four analytics tables, the index each one's reads rely on and how it is partitioned. */
const ANALYTICS_TABLES = EXPECTED_TABLES.filter((table): table is typeof table & { name: PartitionedTable } => table.name in PARTITION_SCHEMES).map((table) => {
  // analytics_realtime is read through its (site_id, created_at) key; the rollups through their primary keys.
  const index = table.indexes.find((candidate) => candidate.columns[0] === 'site_id')!;
  return { table: table.name, index };
});

/** True when an index of the table starts with these columns, in this order (a longer index serves them too). */
function hasIndexOn(indexes: readonly ShardIndex[], table: string, columns: readonly string[]): boolean {
  return indexes.some((index) => index.table === table && columns.every((column, position) => index.columns[position]?.toLowerCase() === column));
}

function indexFindings(settings: ShardSettings): Finding[] {
  return ANALYTICS_TABLES.filter(({ table }) => settings.tables.includes(table)).map(({ table, index }) => {
    const columns = `(${index.columns.join(', ')})`;
    const subject = `index:${table}.${columns}`;
    const why = table === 'analytics_realtime' ? "the hourly rollup and the live charts read a site's recent rows through it" : "every chart query reads one site's range through it, and the rollup's upsert needs it";
    if (hasIndexOn(settings.indexes, table, index.columns)) {
      return { subject, severity: 'ok', actual: 'present', recommended: columns, message: `present: ${why}` };
    }
    const hasPrimary = settings.indexes.some((candidate) => candidate.table === table && candidate.name === 'PRIMARY');
    const fix =
      index.name !== 'PRIMARY'
        ? `ALTER TABLE ${table} ADD INDEX ${index.name} ${columns};`
        : `ALTER TABLE ${table} ${hasPrimary ? 'DROP PRIMARY KEY, ' : ''}ADD PRIMARY KEY ${columns};`;
    return { subject, severity: 'warning', actual: 'missing', recommended: columns, message: `missing: ${why}, so they scan instead`, fix };
  });
}

function partitioningFindings(settings: ShardSettings): Finding[] {
  return ANALYTICS_TABLES.map(({ table }) => {
    const subject = `partitioning:${table}`;
    const expected = `RANGE (${PARTITION_SCHEMES[table].expression})`;
    if (!settings.tables.includes(table)) {
      return { subject, severity: 'warning', actual: 'table missing', recommended: expected, message: 'the table does not exist on this shard', fix: 'strata schema apply' };
    }
    const partitions = settings.partitions.filter((partition) => partition.table === table && partition.name !== null);
    if (partitions.length === 0) {
      return {
        subject,
        severity: 'warning',
        actual: 'not partitioned',
        recommended: expected,
        message: 'without partitions, retention deletes rows one by one instead of dropping a partition, and range reads cannot prune',
        fix: `strata partitions convert --table ${table} --shards ${settings.shard}`,
      };
    }
    const method = partitions[0]!.method ?? '';
    if (!method.toUpperCase().startsWith('RANGE')) {
      return { subject, severity: 'warning', actual: `${method} partitioning`, recommended: expected, message: "Strata's partition maintenance and retention work only on RANGE partitions" };
    }
    return { subject, severity: 'ok', actual: `RANGE, ${partitions.length} partitions`, recommended: expected, message: 'partitioned by range' };
  });
}

/** Every finding for one shard, settings first, then indexes and partitioning. */
export function adviseShard(settings: ShardSettings): AdviceFinding[] {
  const flavour = serverFlavour(settings.version, settings.variables.version_comment);
  const findings: Finding[] = [
    bufferPoolFinding(settings, flavour),
    redoLogFinding(settings, flavour),
    flushLogFinding(settings, flavour),
    ...queryCacheFindings(settings, flavour),
    ...indexFindings(settings),
    ...partitioningFindings(settings),
  ];
  return findings.map((finding) => ({ shard: settings.shard, shardName: settings.shardName, ...finding }));
}

/** True for a host name that is this machine, so os.totalmem() is the shard's RAM. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127\.\d+\.\d+\.\d+$/.test(bare);
}

/** node_memory_MemTotal_bytes from a node exporter's families, if it is there. */
export function memTotalFromFamilies(families: ReadonlyArray<{ name: string; metrics: ReadonlyArray<{ value?: string }> }>): number | undefined {
  const value = families.find((family) => family.name === 'node_memory_MemTotal_bytes')?.metrics[0]?.value;
  const bytes = value === undefined ? Number.NaN : Number(value);
  return Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
}
