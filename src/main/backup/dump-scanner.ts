import type { BackupTableRows, BinlogPosition } from '../../shared/backup';

/**
 * Reads a mysqldump/mariadb-dump stream as it passes to the compressor, without keeping it: the rows of each
 * table's extended INSERTs (one tuple = one row), the tables done, the binlog/GTID position comment, and the raw
 * tuples of the small state tables Strata parses (strata_watermarks). Because the rows are counted from the dump
 * itself, the counts are exactly those of the dump's own snapshot.
 *
 * Works on bytes: every character the grammar cares about is ASCII, and UTF-8 never puts an ASCII byte inside a
 * multi-byte character. Inside a quoted value a backslash escapes the next byte (the dump escapes quotes so).
 */
const NEWLINE = 0x0a;
const QUOTE = 0x27;
const BACKSLASH = 0x5c;
const OPEN = 0x28;
const CLOSE = 0x29;
const SEMICOLON = 0x3b;

/** How much of a line's start is kept to recognise it; headers and INSERT prefixes are far shorter. */
const HEAD_LIMIT = 512;

export interface DumpScan {
  rows: BackupTableRows[];
  tablesDone: number;
  currentTable: string | null;
  position: BinlogPosition | null;
  /** The dump's closing `-- Dump completed` line was seen: the client got to the end. */
  completed: boolean;
}

export class DumpScanner {
  private readonly rowsByTable = new Map<string, number>();
  private readonly columnsByTable = new Map<string, string[]>();
  private readonly tuplesByTable = new Map<string, string[]>();
  private head = '';
  private inInsert = false;
  private insertTable = '';
  private depth = 0;
  private inQuote = false;
  private escaped = false;
  private capture: number[] | undefined;
  private creating: string | undefined;
  private current: string | null = null;
  private done = 0;
  private position: BinlogPosition | null = null;
  private completed = false;

  /** @param captureTables tables whose tuples are kept as text (small ones only). */
  constructor(private readonly captureTables: ReadonlySet<string> = new Set()) {}

  write(chunk: Uint8Array): void {
    let index = 0;
    while (index < chunk.length) {
      if (!this.inInsert) {
        this.lineByte(chunk[index]!);
        index += 1;
      } else if (this.captureTables.has(this.insertTable)) {
        this.insertByte(chunk[index]!);
        index += 1;
      } else {
        index = this.countTuples(chunk, index);
      }
    }
  }

  /**
   * The same state machine as insertByte for a table not captured, jumping from one byte that matters to the next
   * with Buffer.indexOf (memchr) instead of looking at every byte: the dump is almost all INSERT values (hex blobs,
   * numbers, dates), and the scanner reading them one by one in JS was the backup's bottleneck. Each byte's next
   * position is looked up again only once the scan has passed it, so every byte is searched at most once per kind.
   * Returns where the INSERT ended (just after its `;`), or the chunk's length.
   */
  private countTuples(chunk: Uint8Array, from: number): number {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const length = bytes.length;
    const find = (byte: number, at: number) => {
      const found = bytes.indexOf(byte, at);
      return found === -1 ? length : found;
    };
    let nextQuote = -1;
    let nextBackslash = -1;
    let nextOpen = -1;
    let nextClose = -1;
    let nextSemicolon = -1;
    let depth = this.depth;
    let inQuote = this.inQuote;
    let escaped = this.escaped;
    let rows = 0;
    let index = from;
    let ended = false;
    if (escaped && index < length) {
      escaped = false;
      index += 1;
    }
    while (index < length) {
      if (nextQuote < index) nextQuote = find(QUOTE, index);
      if (inQuote) {
        if (nextBackslash < index) nextBackslash = find(BACKSLASH, index);
        if (nextBackslash < nextQuote) {
          if (nextBackslash + 1 >= length) escaped = true;
          index = nextBackslash + 2;
        } else {
          if (nextQuote < length) inQuote = false;
          index = nextQuote + 1;
        }
        continue;
      }
      if (nextOpen < index) nextOpen = find(OPEN, index);
      if (nextClose < index) nextClose = find(CLOSE, index);
      // A `;` ends the INSERT only between tuples.
      if (depth === 0 && nextSemicolon < index) nextSemicolon = find(SEMICOLON, index);
      const next = Math.min(nextQuote, nextOpen, nextClose, depth === 0 ? nextSemicolon : length);
      if (next >= length) {
        index = length;
        break;
      }
      index = next + 1;
      if (next === nextQuote) {
        inQuote = true;
      } else if (next === nextOpen) {
        if (depth === 0) rows += 1;
        depth += 1;
      } else if (next === nextClose) {
        depth -= 1;
      } else {
        ended = true;
        break;
      }
    }
    this.depth = depth;
    this.inQuote = inQuote;
    this.escaped = escaped;
    if (rows > 0) this.rowsByTable.set(this.insertTable, (this.rowsByTable.get(this.insertTable) ?? 0) + rows);
    if (ended) this.inInsert = false;
    return Math.min(index, length);
  }

  /** Ends the stream: a table still open counts as done only when the dump completed. */
  end(): DumpScan {
    if (this.head) this.endLine();
    if (this.completed && this.current !== null) {
      this.done += 1;
      this.current = null;
    }
    return this.snapshot();
  }

  snapshot(): DumpScan {
    return {
      rows: [...this.rowsByTable].map(([table, rows]) => ({ table, rows })),
      tablesDone: this.done,
      currentTable: this.current,
      position: this.position,
      completed: this.completed,
    };
  }

  rowsOf(table: string): number {
    return this.rowsByTable.get(table) ?? 0;
  }

  /** A captured table's rows as objects keyed by the columns of its CREATE TABLE; NULL is null, the rest text. */
  capturedRows(table: string): Array<Record<string, string | null>> {
    const columns = this.columnsByTable.get(table) ?? [];
    return (this.tuplesByTable.get(table) ?? []).map((tuple) => {
      const values = splitTuple(tuple);
      return Object.fromEntries(columns.map((column, index) => [column, values[index] ?? null]));
    });
  }

  private lineByte(byte: number): void {
    // MariaDB 10.11 puts each tuple on a line of its own after `VALUES`; older clients and MySQL continue the line.
    if (byte === NEWLINE && !(this.head.startsWith('INSERT INTO `') && this.head.endsWith('` VALUES'))) {
      this.endLine();
      return;
    }
    if (byte === NEWLINE) {
      this.startInsert(this.head.slice('INSERT INTO `'.length, -'` VALUES'.length));
      return;
    }
    if (this.head.length < HEAD_LIMIT) this.head += String.fromCharCode(byte);
    // An INSERT line is recognised as soon as its prefix is complete; the rest of it can be megabytes.
    if (byte === 0x20 && this.head.startsWith('INSERT INTO `') && this.head.endsWith('` VALUES ')) this.startInsert(this.head.slice('INSERT INTO `'.length, -'` VALUES '.length));
  }

  private startInsert(table: string): void {
    this.insertTable = table;
    this.inInsert = true;
    this.depth = 0;
    this.inQuote = false;
    this.escaped = false;
    this.head = '';
  }

  private endLine(): void {
    const line = this.head;
    this.head = '';
    const structure = /^-- Table structure for table `([^`]+)`/.exec(line);
    if (structure) {
      if (this.current !== null) this.done += 1;
      this.current = structure[1]!;
      return;
    }
    const create = /^CREATE TABLE `([^`]+)` \(/.exec(line);
    if (create) {
      this.creating = create[1]!;
      this.columnsByTable.set(this.creating, []);
      return;
    }
    if (this.creating !== undefined) {
      const column = /^ {2}`([^`]+)` /.exec(line);
      if (column) this.columnsByTable.get(this.creating)!.push(column[1]!);
      else if (line.startsWith(')')) this.creating = undefined;
      return;
    }
    if (line.startsWith('-- Dump completed')) {
      this.completed = true;
      return;
    }
    this.readPosition(line);
  }

  /** `-- CHANGE MASTER TO MASTER_LOG_FILE='…', MASTER_LOG_POS=…;`, MySQL's SOURCE_ spelling, and the GTID lines. */
  private readPosition(line: string): void {
    if (!line.startsWith('-- ') && !line.startsWith('SET ')) return;
    const file = /(?:MASTER|SOURCE)_LOG_FILE='([^']+)'/.exec(line);
    const pos = /(?:MASTER|SOURCE)_LOG_POS=(\d+)/.exec(line);
    const gtid = /SET GLOBAL gtid_(?:slave|replica)_pos='([^']*)'/.exec(line) ?? /GTID_PURGED=\/\*!80000 '\+'\*\/ '([^']*)'/.exec(line) ?? /GTID_PURGED='([^']*)'/.exec(line);
    if (!file && !pos && !gtid) return;
    this.position ??= { file: null, position: null, gtid: null };
    if (file) this.position.file = file[1]!;
    if (pos) this.position.position = Number(pos[1]);
    if (gtid) this.position.gtid = gtid[1]!;
  }

  private insertByte(byte: number): void {
    if (this.capture && this.depth > 0) this.capture.push(byte);
    if (this.inQuote) {
      if (this.escaped) this.escaped = false;
      else if (byte === BACKSLASH) this.escaped = true;
      else if (byte === QUOTE) this.inQuote = false;
      return;
    }
    if (byte === QUOTE) {
      this.inQuote = true;
    } else if (byte === OPEN) {
      if (this.depth === 0) {
        this.rowsByTable.set(this.insertTable, (this.rowsByTable.get(this.insertTable) ?? 0) + 1);
        if (this.captureTables.has(this.insertTable)) this.capture = [];
      }
      this.depth += 1;
    } else if (byte === CLOSE) {
      this.depth -= 1;
      if (this.depth === 0 && this.capture) {
        this.capture.pop();
        const tuples = this.tuplesByTable.get(this.insertTable) ?? [];
        tuples.push(Buffer.from(this.capture).toString('utf8'));
        this.tuplesByTable.set(this.insertTable, tuples);
        this.capture = undefined;
      }
    } else if (byte === SEMICOLON && this.depth === 0) {
      this.inInsert = false;
    }
  }
}

/** Splits one tuple's text (`'hourly','2026-11-30 05:00:00',3,NULL`) into values; quoted ones are unescaped. */
export function splitTuple(tuple: string): Array<string | null> {
  const values: Array<string | null> = [];
  let index = 0;
  while (index <= tuple.length) {
    if (tuple[index] === "'") {
      let value = '';
      index += 1;
      while (index < tuple.length && tuple[index] !== "'") {
        if (tuple[index] === '\\' && index + 1 < tuple.length) {
          const next = tuple[index + 1]!;
          value += next === 'n' ? '\n' : next === 'r' ? '\r' : next === 't' ? '\t' : next === '0' ? '\0' : next;
          index += 2;
        } else {
          value += tuple[index];
          index += 1;
        }
      }
      values.push(value);
      index += 2;
    } else {
      const comma = tuple.indexOf(',', index);
      const raw = tuple.slice(index, comma === -1 ? tuple.length : comma);
      values.push(raw === 'NULL' ? null : raw);
      index = comma === -1 ? tuple.length + 1 : comma + 1;
    }
  }
  return values;
}
