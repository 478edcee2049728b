import type { BackupRate, BackupTableEstimate, DumpClient } from '../../shared/backup';
import { ErrorCode, StrataError } from '../../shared/errors';

/**
 * The pure half of backups: which client a `--version` line names and whether it is new enough, the exact command
 * line, the defaults file that carries the password, the estimates and the room check. No I/O here.
 */

/** Older clients lack options a safe dump needs (`--gtid`, `--source-data`) or speak an older protocol. */
export const MINIMUM_CLIENT_VERSIONS = { mariadb: '10.3.0', mysql: '5.7.0' } as const;

/** Where the dry run shows the secret: a file of this name in a private temp folder made when the dump starts. */
export const DEFAULTS_FILE_PLACEHOLDER = '<private temp folder>/strata-dump.cnf';

export function compareVersions(a: string, b: string): number {
  const parts = (text: string) => text.split('.').map((part) => Number.parseInt(part, 10) || 0);
  const [left, right] = [parts(a), parts(b)];
  for (let index = 0; index < Math.max(left.length, right.length); index += 1) {
    const difference = (left[index] ?? 0) - (right[index] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}

/**
 * Reads a client's first `--version` line. MariaDB: `mariadb-dump  Ver 10.19 Distrib 10.11.6-MariaDB, for …` (its
 * mysqldump says the same); MySQL 8: `mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)`.
 */
export function parseDumpClient(path: string, versionLine: string): DumpClient | undefined {
  const line = versionLine.split('\n')[0]!.trim();
  const kind = /mariadb-dump/.test(path.split('/').pop() ?? '') || /^mariadb-dump\b/.test(line) ? 'mariadb-dump' : 'mysqldump';
  const distrib = /Distrib\s+(\d+\.\d+\.\d+)-MariaDB/i.exec(line);
  if (distrib) return { path, kind, flavor: 'mariadb', version: distrib[1]!, versionLine: line };
  const mysql = /\bVer\s+(\d+\.\d+\.\d+)\b(?!.*MariaDB)/.exec(line);
  if (mysql && !/MariaDB/i.test(line)) return { path, kind, flavor: 'mysql', version: mysql[1]!, versionLine: line };
  const mysqlDistrib = /Distrib\s+(\d+\.\d+\.\d+)/.exec(line);
  if (mysqlDistrib) return { path, kind, flavor: 'mysql', version: mysqlDistrib[1]!, versionLine: line };
  return undefined;
}

/** Refuses a client older than MINIMUM_CLIENT_VERSIONS, naming it and what is needed. */
export function checkClientVersion(client: DumpClient): DumpClient {
  const minimum = MINIMUM_CLIENT_VERSIONS[client.flavor];
  if (compareVersions(client.version, minimum) < 0) {
    throw new StrataError(
      ErrorCode.BackupClientMissing,
      `${client.path} is ${client.flavor === 'mariadb' ? 'MariaDB' : 'MySQL'} ${client.version} (${client.versionLine}); backups need ${client.flavor === 'mariadb' ? 'mariadb-dump from MariaDB' : 'mysqldump from MySQL'} ${minimum} or later`,
    );
  }
  return client;
}

export interface DumpOptionsInput {
  client: DumpClient;
  /** The server has binary logging on: record its position (and GTID) in the dump. */
  binaryLogging: boolean;
  database: string;
  tables: readonly string[];
}

/**
 * The options after `--defaults-extra-file` (which must come first: the client reads it before anything else).
 * `--single-transaction` dumps every table from one InnoDB snapshot without locking; `--quick` streams rows instead
 * of buffering a table; `--hex-blob` keeps the sketches' bytes exact. Extended inserts (the default) are kept: the
 * row counter counts their tuples. With binary logging on, `--master-data=2` (`--source-data=2` from MySQL 8.0.26)
 * writes the position as a comment, taken under a brief global read lock at the snapshot; MariaDB adds `--gtid`.
 */
export function dumpOptions(input: DumpOptionsInput): string[] {
  const options = ['--single-transaction', '--routines', '--triggers', '--quick', '--hex-blob', '--extended-insert', '--default-character-set=utf8mb4', '--tz-utc'];
  if (input.client.flavor === 'mysql') options.push('--no-tablespaces', '--set-gtid-purged=OFF');
  if (input.binaryLogging) {
    if (input.client.flavor === 'mariadb') options.push('--master-data=2', '--gtid');
    else options.push(compareVersions(input.client.version, '8.0.26') >= 0 ? '--source-data=2' : '--master-data=2');
  }
  return [...options, input.database, ...input.tables];
}

/** The full argv: the defaults file first, then the options. */
export function dumpCommand(client: DumpClient, defaultsFile: string, options: readonly string[]): string[] {
  return [client.path, `--defaults-extra-file=${defaultsFile}`, ...options];
}

/** Shell-quoted, for people to read and paste; never contains a secret (those are in the defaults file). */
export function commandLine(argv: readonly string[]): string {
  return argv.map((arg) => (/^[A-Za-z0-9_@%+=:,./<>-]+$/.test(arg) && !/[<>]/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`)).join(' ');
}

export interface DefaultsFileInput {
  host: string;
  port: number;
  user: string;
  password: string | undefined;
  tls?: { ca?: string; cert?: string; key?: string; required: boolean };
}

/** Option-file values in double quotes, backslash and quote escaped as the client's option parser reads them. */
function optionValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** The `[client]` group the dump reads its connection from; TCP always, so `localhost` never means a socket. */
export function defaultsFileText(input: DefaultsFileInput): string {
  const lines = ['[client]', `host=${optionValue(input.host)}`, `port=${input.port}`, 'protocol=TCP', `user=${optionValue(input.user)}`];
  if (input.password !== undefined && input.password !== '') lines.push(`password=${optionValue(input.password)}`);
  if (input.tls) {
    if (input.tls.ca) lines.push(`ssl-ca=${optionValue(input.tls.ca)}`);
    if (input.tls.cert) lines.push(`ssl-cert=${optionValue(input.tls.cert)}`);
    if (input.tls.key) lines.push(`ssl-key=${optionValue(input.tls.key)}`);
    lines.push('ssl-verify-server-cert');
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Until a first backup of the shard measures its own: the per-shard rate and compression that `npm run bench:backup`
 * measured on a 2-core machine (2 shards, 574 MB dumped in 8.8 s, 0.41 of it after zstd -3); the rate rounded down.
 */
export const FALLBACK_BYTES_PER_SECOND = 30e6;
export const FALLBACK_COMPRESSION_RATIO = 0.41;

export interface EarlierPart {
  dumpBytes: number;
  bytes: number;
  durationMs: number;
}

/** Bytes per second of earlier dumps of the shard (the recent ones given), else the fallback. */
export function dumpRate(earlier: readonly EarlierPart[]): BackupRate {
  const usable = earlier.filter((part) => part.durationMs > 0 && part.dumpBytes > 0);
  const bytes = usable.reduce((sum, part) => sum + part.dumpBytes, 0);
  const ms = usable.reduce((sum, part) => sum + part.durationMs, 0);
  // Tiny dumps are dominated by connecting and starting the client; they say nothing about the rate.
  if (usable.length === 0 || bytes < 1e6) {
    return { basis: 'fallback', bytesPerSecond: FALLBACK_BYTES_PER_SECOND, note: `no earlier backup of this shard large enough to measure; assumed ${FALLBACK_BYTES_PER_SECOND / 1e6} MB/s, the rate bench:backup measured per shard` };
  }
  const bytesPerSecond = bytes / (ms / 1000);
  return { basis: 'history', bytesPerSecond, note: `${(bytesPerSecond / 1e6).toFixed(1)} MB/s over the last ${usable.length} backup${usable.length === 1 ? '' : 's'} of this shard` };
}

/** Compressed bytes per dump byte of earlier parts, else the fallback ratio. */
export function compressionRatio(earlier: readonly EarlierPart[]): number {
  const usable = earlier.filter((part) => part.dumpBytes > 0 && part.bytes > 0);
  const dump = usable.reduce((sum, part) => sum + part.dumpBytes, 0);
  if (dump < 1e6) return FALLBACK_COMPRESSION_RATIO;
  return usable.reduce((sum, part) => sum + part.bytes, 0) / dump;
}

export interface ShardEstimate {
  estimatedBytes: number;
  estimatedFileBytes: number;
  estimatedSeconds: number;
}

/** A dump is roughly the tables' data length (indexes are not dumped); a few seconds go to connecting and the schema. */
export function estimateShard(tables: readonly BackupTableEstimate[], rate: BackupRate, ratio: number): ShardEstimate {
  const estimatedBytes = tables.reduce((sum, table) => sum + table.estimatedBytes, 0);
  return {
    estimatedBytes,
    estimatedFileBytes: Math.ceil(estimatedBytes * ratio),
    estimatedSeconds: Math.round((1 + estimatedBytes / rate.bytesPerSecond) * 10) / 10,
  };
}

/** Headroom asked beyond the estimate: estimates come from statistics that may be low. */
export const ROOM_FACTOR = 1.2;
export const ROOM_MARGIN_BYTES = 1 << 20;

export function roomNeeded(estimatedFileBytes: number): number {
  return Math.ceil(estimatedFileBytes * ROOM_FACTOR) + ROOM_MARGIN_BYTES;
}

/** The refusal sentence when the destination lacks room for the estimate, else undefined. */
export function roomRefusal(dest: string, estimatedFileBytes: number, freeBytes: number): string | undefined {
  const needed = roomNeeded(estimatedFileBytes);
  if (freeBytes >= needed) return undefined;
  return `the destination ${dest} has ${freeBytes} bytes free; this backup needs about ${needed} bytes (${estimatedFileBytes} estimated compressed, with 20 % and 1 MiB headroom)`;
}

/** `20261130T010000Z-3f2a`: sorts by time, unique enough between hosts with the random tail. */
export function backupSetId(startedAt: Date, randomHex: string): string {
  return `${startedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-${randomHex}`;
}

/** The environment a dump child gets: the locale and PATH, nothing that could carry a secret (MYSQL_PWD, STRATA_*, …). */
export function cleanChildEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const kept: NodeJS.ProcessEnv = {};
  for (const name of ['PATH', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR']) if (env[name] !== undefined) kept[name] = env[name];
  return kept;
}
