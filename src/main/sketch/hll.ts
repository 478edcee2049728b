import { crc32 } from 'node:zlib';
import { ErrorCode, StrataError } from '../../shared/errors';

/**
 * A HyperLogLog distinct-count sketch (precision 14: 16,384 registers, standard error about 0.81 %) whose
 * input can be computed inside MariaDB/MySQL with one cheap expression per raw row, so the hourly rollup builds
 * sketches in the shard in the same sorted pass that counts the visitors.
 *
 * Hash of a visitor id v: h = CRC32(decimal text of v) with its top bit dropped (31 bits: the SQL sets that bit so
 * CHAR() always writes exactly 4 bytes). The register hash is h × 2654435761 (mod 2^32), whose top 14 bits are the
 * register and top 25 bits the "fine index"; the rank is 1 + the leading zeros of h × 2246822519 (mod 2^32), 33
 * when that is zero. Two odd multipliers spread CRC32's linear structure over the bits both parts read.
 * `SKETCH_SQL` is the same hash in SQL; an integration test checks the two agree.
 *
 * Encoding: byte 0 is the format, byte 1 the precision, then
 * - sparse (3): 4-byte big-endian entries, each the 31-bit hash h with the top bit set, in any order, repeats
 *   allowed, because SQL's GROUP_CONCAT writes one per raw row without a sort. Keeping h itself (not a register)
 *   makes small sets exact, where 16,384 registers would already collide (37 visitors collide with a 4 % chance),
 *   and makes the sparse union exact: it is the set of hashes;
 * - dense (4): one byte per register, the plain HyperLogLog.
 * `encode` writes sorted, repeat-free sparse entries while that is smaller than dense.
 * Formats 1 and 2 were written with the earlier 32-bit hash; they cannot be merged with these and are refused.
 */

export const SKETCH_PRECISION = 14;
export const REGISTER_COUNT = 1 << SKETCH_PRECISION;
const FINE_PRECISION = 25;
const HASH_BITS = 31;
const HASH_COUNT = 2 ** HASH_BITS;
const HASH_MASK = HASH_COUNT - 1;
/** Set on every sparse entry: CHAR() in SQL drops leading zero bytes, never with this bit set. */
const ENTRY_MARK = 0x80000000;
/** Bits of the rank hash; a rank is 1..RANK_BITS + 1. */
const RANK_BITS = 32;
const FORMAT_SPARSE = 3;
const FORMAT_DENSE = 4;
const OLD_HASH_FORMATS = new Set([1, 2]);
export const HEADER_BYTES = 2;
export const SPARSE_ENTRY_BYTES = 4;
export const DENSE_SKETCH_BYTES = HEADER_BYTES + REGISTER_COUNT;
/** Most hashes a sparse sketch holds before dense is smaller. */
export const SPARSE_LIMIT = Math.floor(REGISTER_COUNT / SPARSE_ENTRY_BYTES);

const REGISTER_MULTIPLIER = 2654435761;
const RANK_MULTIPLIER = 2246822519;
const hex = (byte: number) => byte.toString(16).padStart(2, '0');

/**
 * The hash in SQL. `entry(visitorColumn)` is one sparse entry as 4 binary bytes, one CRC32 and one CHAR per row;
 * `header` starts a sparse sketch. `hash`, `register` and `rank` give the same hash and its parts as integers
 * (for the rare site whose sketch is built register by register); FLOOR(LOG2(x)) is exact for 32-bit integers.
 */
export const SKETCH_SQL = {
  entry: (visitorColumn: string) => `CHAR(CRC32(${visitorColumn}) | ${ENTRY_MARK} USING binary)`,
  header: `X'${hex(FORMAT_SPARSE)}${hex(SKETCH_PRECISION)}'`,
  hash: (visitorColumn: string) => `(CRC32(${visitorColumn}) & ${HASH_MASK})`,
  register: (hashColumn: string) => `(((${hashColumn} * ${REGISTER_MULTIPLIER}) & 4294967295) >> ${32 - SKETCH_PRECISION})`,
  rank: (hashColumn: string) => {
    const rankHash = `((${hashColumn} * ${RANK_MULTIPLIER}) & 4294967295)`;
    return `IF(${rankHash} = 0, ${RANK_BITS + 1}, ${RANK_BITS} - FLOOR(LOG2(${rankHash})))`;
  },
} as const;

function fineOf(hash: number): number {
  return Math.imul(hash, REGISTER_MULTIPLIER | 0) >>> (32 - FINE_PRECISION);
}

function rankOf(hash: number): number {
  const rankHash = Math.imul(hash, RANK_MULTIPLIER | 0) >>> 0;
  return rankHash === 0 ? RANK_BITS + 1 : Math.clz32(rankHash) + 1;
}

/** The 31-bit hash, register, fine index and rank of one visitor id, exactly as SKETCH_SQL computes them in a shard. */
export function visitorHash(visitorId: number | bigint | string): { hash: number; register: number; fine: number; rank: number } {
  const hash = (crc32(String(visitorId)) & HASH_MASK) >>> 0;
  const fine = fineOf(hash);
  return { hash, register: fine >>> (FINE_PRECISION - SKETCH_PRECISION), fine, rank: rankOf(hash) };
}

/** One sparse entry of a hash, as SKETCH_SQL.entry writes it. */
export function sparseEntry(hash: number): Buffer {
  const bytes = Buffer.allocUnsafe(SPARSE_ENTRY_BYTES);
  bytes.writeUInt32BE((hash | ENTRY_MARK) >>> 0);
  return bytes;
}

function corrupt(message: string): never {
  throw new StrataError(ErrorCode.SketchInvalid, `visitor sketch is corrupt: ${message}`);
}

/**
 * Register-wise maximum of any number of sketches, reusable between sites. While the union is small it is the
 * exact set of hashes; it turns dense once that would not fit a sparse sketch smaller than a dense one.
 */
export class SketchAccumulator {
  readonly registers = new Uint8Array(REGISTER_COUNT);
  private readonly hashes = new Set<number>();
  private dense = false;

  /** True once the union is too large for the sparse form. */
  get isDense(): boolean {
    return this.dense;
  }

  /** Adds one 31-bit visitor hash. */
  addHash(hash: number): void {
    if (this.dense) {
      this.raise(fineOf(hash) >>> (FINE_PRECISION - SKETCH_PRECISION), rankOf(hash));
      return;
    }
    this.hashes.add(hash);
    if (this.hashes.size > SPARSE_LIMIT) this.densify();
  }

  /** Raises one register, as a register-by-register aggregate in SQL gives it; the union is dense from here on. */
  addRegister(register: number, rank: number): void {
    if (!Number.isInteger(register) || register < 0 || register >= REGISTER_COUNT) corrupt(`register ${register} is out of range`);
    if (!Number.isInteger(rank) || rank < 1 || rank > RANK_BITS + 1) corrupt(`rank ${rank} is out of range`);
    this.densify();
    this.raise(register, rank);
  }

  addVisitor(visitorId: number | bigint | string): void {
    this.addHash(visitorHash(visitorId).hash);
  }

  /** Merges an encoded sketch into this one. */
  merge(sketch: Uint8Array): void {
    if (sketch.length < HEADER_BYTES) corrupt(`${sketch.length} bytes is shorter than its header`);
    if (OLD_HASH_FORMATS.has(sketch[0]!)) {
      throw new StrataError(
        ErrorCode.SketchInvalid,
        `visitor sketch format ${sketch[0]} was written with an earlier visitor hash and cannot be merged with current sketches; re-roll the hourly windows it came from`,
      );
    }
    if (sketch[1] !== SKETCH_PRECISION) corrupt(`precision ${sketch[1]}, expected ${SKETCH_PRECISION}`);
    if (sketch[0] === FORMAT_DENSE) {
      if (sketch.length !== DENSE_SKETCH_BYTES) corrupt(`a dense sketch has ${sketch.length} bytes, expected ${DENSE_SKETCH_BYTES}`);
      for (let register = 0; register < REGISTER_COUNT; register++) {
        if (sketch[HEADER_BYTES + register]! > RANK_BITS + 1) corrupt(`rank ${sketch[HEADER_BYTES + register]} is out of range`);
      }
      this.densify();
      for (let register = 0; register < REGISTER_COUNT; register++) this.raise(register, sketch[HEADER_BYTES + register]!);
    } else if (sketch[0] === FORMAT_SPARSE) {
      if ((sketch.length - HEADER_BYTES) % SPARSE_ENTRY_BYTES !== 0) corrupt(`a sparse sketch of ${sketch.length} bytes is not whole entries`);
      const view = new DataView(sketch.buffer, sketch.byteOffset, sketch.byteLength);
      for (let offset = HEADER_BYTES; offset < sketch.length; offset += SPARSE_ENTRY_BYTES) {
        const entry = view.getUint32(offset);
        if (entry < ENTRY_MARK) corrupt(`entry ${entry.toString(16).padStart(8, '0')} lacks its marker bit`);
        this.addHash(entry & HASH_MASK);
      }
    } else {
      corrupt(`unknown format ${sketch[0]}`);
    }
  }

  reset(): void {
    if (this.dense) this.registers.fill(0);
    this.hashes.clear();
    this.dense = false;
  }

  /** The smaller of the two encodings. */
  encode(): Buffer {
    if (!this.dense) {
      const entries = Uint32Array.from(this.hashes).sort();
      const bytes = Buffer.allocUnsafe(HEADER_BYTES + entries.length * SPARSE_ENTRY_BYTES);
      bytes[0] = FORMAT_SPARSE;
      bytes[1] = SKETCH_PRECISION;
      entries.forEach((hash, index) => bytes.writeUInt32BE((hash | ENTRY_MARK) >>> 0, HEADER_BYTES + index * SPARSE_ENTRY_BYTES));
      return bytes;
    }
    const bytes = Buffer.allocUnsafe(DENSE_SKETCH_BYTES);
    bytes[0] = FORMAT_DENSE;
    bytes[1] = SKETCH_PRECISION;
    bytes.set(this.registers, HEADER_BYTES);
    return bytes;
  }

  /** Estimated distinct count: linear counting over the 31-bit hashes while sparse (all but exact), else Ertl's estimator. */
  estimate(): number {
    if (!this.dense) {
      const used = this.hashes.size;
      return used === 0 ? 0 : HASH_COUNT * Math.log(HASH_COUNT / (HASH_COUNT - used));
    }
    const histogram = new Float64Array(RANK_BITS + 2);
    for (let register = 0; register < REGISTER_COUNT; register++) histogram[this.registers[register]!]! += 1;
    return ertlEstimate(histogram);
  }

  private raise(register: number, rank: number): void {
    if (rank > this.registers[register]!) this.registers[register] = rank;
  }

  private densify(): void {
    if (this.dense) return;
    this.dense = true;
    for (const hash of this.hashes) this.raise(fineOf(hash) >>> (FINE_PRECISION - SKETCH_PRECISION), rankOf(hash));
    this.hashes.clear();
  }
}

/**
 * O. Ertl, "New cardinality estimation algorithms for HyperLogLog sketches" (2017), section 4: the improved
 * raw estimator, from the histogram of register values 0..q+1 (q = RANK_BITS).
 */
function ertlEstimate(histogram: Float64Array): number {
  const m = REGISTER_COUNT;
  const q = RANK_BITS;
  if (histogram[0] === m) return 0;
  let z = m * tau(1 - histogram[q + 1]! / m);
  for (let k = q; k >= 1; k--) z = 0.5 * (z + histogram[k]!);
  z += m * sigma(histogram[0]! / m);
  return (m * m) / (2 * Math.LN2 * z);
}

function sigma(x: number): number {
  if (x === 1) return Number.POSITIVE_INFINITY;
  let y = 1;
  let z = x;
  for (;;) {
    x *= x;
    const previous = z;
    z += x * y;
    y += y;
    if (z === previous) return z;
  }
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  for (;;) {
    x = Math.sqrt(x);
    const previous = z;
    y *= 0.5;
    z -= (1 - x) ** 2 * y;
    if (z === previous) return z / 3;
  }
}

/** Merges encoded sketches into a new encoded one. */
export function mergeSketches(sketches: Iterable<Uint8Array>): Buffer {
  const accumulator = new SketchAccumulator();
  for (const sketch of sketches) accumulator.merge(sketch);
  return accumulator.encode();
}

/** Estimated distinct count of one encoded sketch. */
export function estimateSketch(sketch: Uint8Array): number {
  const accumulator = new SketchAccumulator();
  accumulator.merge(sketch);
  return accumulator.estimate();
}

/** The sketch of a set of visitor ids, as the hourly rollup would build it in SQL (but sorted and repeat-free). */
export function sketchOf(visitorIds: Iterable<number | bigint | string>): Buffer {
  const accumulator = new SketchAccumulator();
  for (const id of visitorIds) accumulator.addVisitor(id);
  return accumulator.encode();
}
