import { escape } from 'mysql2';
import { emptyPageView, PATHS, REFERRERS, type PageView, type TrafficModel } from './model';

/**
 * Turns the traffic model into multi-row INSERT statements, one stream of batches per shard.
 * Pure: no connections, so the SQL and the routing are unit-tested directly.
 */

export const BATCH_ROWS = 1000;
export const INSERT_COLUMNS = ['site_id', 'created_at', 'visitor_id', 'path', 'referrer'] as const;
export const INSERT_HEAD = `INSERT INTO analytics_realtime (${INSERT_COLUMNS.join(', ')}) VALUES `;

/** Every pool string is escaped and encoded once, here, so a row is built by copying bytes. */
const PATH_BYTES = PATHS.map((entry) => Buffer.from(escape(entry.path)));
const REFERRER_BYTES = REFERRERS.map((entry) => Buffer.from(entry.referrer === null ? 'NULL' : escape(entry.referrer)));
const HEAD_BYTES = Buffer.from(INSERT_HEAD);
/** `,(site,'YYYY-MM-DD HH:MM:SS',visitor,path,referrer)`: site_id has at most 10 digits, a visitor id 16. */
const MAX_ROW_BYTES =
  ",(".length + 10 + ",''".length + 19 + ",".length + 16 + ",".length + Math.max(...PATH_BYTES.map((bytes) => bytes.length)) +
  ",".length + Math.max(...REFERRER_BYTES.map((bytes) => bytes.length)) + ")".length;

const COMMA = 0x2c;
const QUOTE = 0x27;
const OPEN = 0x28;
const CLOSE = 0x29;
const ZERO = 0x30;

/** One INSERT for one shard. */
export interface InsertBatch {
  shard: number;
  rows: number;
  sql: string;
}

/** 'YYYY-MM-DD HH:MM:SS' in UTC, from cached bytes: the hour prefix is rebuilt only when the hour changes. */
export class TimestampFormatter {
  /** 'MM:SS' for every second of an hour, 5 bytes each. */
  private static readonly minuteSeconds = Buffer.from(
    Array.from({ length: 3600 }, (_, offset) => `${String(Math.floor(offset / 60)).padStart(2, '0')}:${String(offset % 60).padStart(2, '0')}`).join(''),
    'latin1',
  );
  private hour = -1;
  private readonly hourPrefix = Buffer.alloc(14);
  private readonly scratch = Buffer.alloc(19);

  /** Writes the 19 bytes of the timestamp of `second` into `target` at `offset`. */
  write(second: number, target: Buffer, offset: number): void {
    const hour = Math.floor(second / 3600);
    if (hour !== this.hour) {
      this.hour = hour;
      this.hourPrefix.write(new Date(hour * 3_600_000).toISOString().slice(0, 14).replace('T', ' '), 'latin1');
    }
    this.hourPrefix.copy(target, offset);
    const minuteSecond = (second - hour * 3600) * 5;
    TimestampFormatter.minuteSeconds.copy(target, offset + 14, minuteSecond, minuteSecond + 5);
  }

  format(second: number): string {
    this.write(second, this.scratch, 0);
    return this.scratch.toString('latin1');
  }
}

/**
 * Maps site ids to shards once up front (through the caller's routing function, which must be
 * the cluster's own), so the per-row cost is an array read.
 */
export function shardTable(sites: number, shardOfSite: (siteId: number) => number): Uint16Array {
  const table = new Uint16Array(sites + 1);
  for (let siteId = 1; siteId <= sites; siteId++) table[siteId] = shardOfSite(siteId);
  return table;
}

function writeDecimal(target: Buffer, offset: number, value: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits += 1;
  let position = offset + digits;
  do {
    const quotient = Math.floor(value / 10);
    target[--position] = ZERO + (value - quotient * 10);
    value = quotient;
  } while (value > 0);
  return offset + digits;
}

/**
 * One shard's INSERT under construction, in a buffer sized for a full batch and reused for every batch:
 * appending a row allocates nothing, which keeps the garbage collector (and so memory) quiet.
 */
class BatchBuilder {
  private readonly bytes: Buffer;
  private length = 0;
  rows = 0;

  constructor(batchRows: number) {
    this.bytes = Buffer.allocUnsafe(HEAD_BYTES.length + batchRows * MAX_ROW_BYTES);
    this.reset();
  }

  append(view: PageView, timestamps: TimestampFormatter): void {
    const bytes = this.bytes;
    let at = this.length;
    if (this.rows > 0) bytes[at++] = COMMA;
    bytes[at++] = OPEN;
    at = writeDecimal(bytes, at, view.siteId);
    bytes[at++] = COMMA;
    bytes[at++] = QUOTE;
    timestamps.write(view.second, bytes, at);
    at += 19;
    bytes[at++] = QUOTE;
    bytes[at++] = COMMA;
    at = writeDecimal(bytes, at, view.visitorId);
    bytes[at++] = COMMA;
    at += PATH_BYTES[view.pathIndex]!.copy(bytes, at);
    bytes[at++] = COMMA;
    at += REFERRER_BYTES[view.referrerIndex]!.copy(bytes, at);
    bytes[at++] = CLOSE;
    this.length = at;
    this.rows += 1;
  }

  take(): string {
    const sql = this.bytes.toString('utf8', 0, this.length);
    this.reset();
    return sql;
  }

  private reset(): void {
    this.length = HEAD_BYTES.copy(this.bytes, 0);
    this.rows = 0;
  }
}

/**
 * Lazily yields INSERT batches of up to `batchRows` rows, routed by site. A shard's batch is yielded the
 * moment it is full, so at most one partial batch per shard is held while generating.
 */
export function* insertBatches(
  model: TrafficModel,
  shardCount: number,
  shardOfSite: (siteId: number) => number,
  batchRows = BATCH_ROWS,
): Generator<InsertBatch, void, void> {
  const shardBySite = shardTable(model.spec.sites, shardOfSite);
  const builders = Array.from({ length: shardCount }, () => new BatchBuilder(batchRows));
  const timestamps = new TimestampFormatter();
  const cursor = model.cursor();
  const view = emptyPageView();
  while (cursor.next(view)) {
    const shard = shardBySite[view.siteId]!;
    const builder = builders[shard]!;
    builder.append(view, timestamps);
    if (builder.rows === batchRows) yield { shard, rows: batchRows, sql: builder.take() };
  }
  for (const [shard, builder] of builders.entries()) {
    if (builder.rows > 0) yield { shard, rows: builder.rows, sql: builder.take() };
  }
}
