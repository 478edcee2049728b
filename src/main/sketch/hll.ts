import { crc32 } from 'node:zlib';
import { ErrorCode, StrataError } from '../../shared/errors';

/**
 * A HyperLogLog distinct-count sketch (precision 14: 16,384 registers, standard error about 0.81 %) whose
 * hash can be computed inside MariaDB/MySQL, so the hourly rollup builds sketches in the shard.
 *
 * Hash of a visitor id v: c = CRC32(decimal text of v); the register hash is c × 2654435761 (mod 2^32), whose
 * top 14 bits are the register and top 25 bits the "fine index"; the rank is 1 + the leading zeros of
 * c × 2246822519 (mod 2^32), 33 when that is zero. Two odd multipliers spread CRC32's linear structure over the
 * bits both parts read. `SKETCH_SQL` is the same hash in SQL; an integration test checks the two agree.
 *
 * Encoding: byte 0 is the format, byte 1 the precision, then
 * - sparse (1): 4-byte big-endian entries, the register hash with its low 7 bits replaced by the rank, in any
 *   order, repeats allowed (the largest rank wins), because SQL's GROUP_CONCAT writes them that way without a
 *   sort. Like HyperLogLog++'s sparse mode, the 25-bit fine index makes small sets all but exact, where 16,384
 *   registers would already collide (37 visitors collide with a 4 % chance);
 * - dense (2): one byte per register, the plain HyperLogLog.
 * `encode` writes sorted, repeat-free sparse entries while that is smaller than dense.
 */

export const SKETCH_PRECISION = 14;
export const REGISTER_COUNT = 1 << SKETCH_PRECISION;
const FINE_PRECISION = 25;
const FINE_COUNT = 2 ** FINE_PRECISION;
/** Bits of the rank hash; a rank is 1..RANK_BITS + 1. */
const RANK_BITS = 32;
const FORMAT_SPARSE = 1;
const FORMAT_DENSE = 2;
export const HEADER_BYTES = 2;
export const SPARSE_ENTRY_BYTES = 4;
export const DENSE_SKETCH_BYTES = HEADER_BYTES + REGISTER_COUNT;
/** Most fine indexes a sparse sketch holds before dense is smaller. */
const SPARSE_LIMIT = Math.floor(REGISTER_COUNT / SPARSE_ENTRY_BYTES);

const REGISTER_MULTIPLIER = 2654435761;
const RANK_MULTIPLIER = 2246822519;

/**
 * The hash as SQL over a column holding CRC32(visitor_id). `entry` is one sparse entry as 4 binary bytes;
 * `header` starts a sparse sketch. FLOOR(LOG2(x)) is exact for 32-bit integers (far from rounding edges).
 */
export const SKETCH_SQL = {
  crc: (visitorColumn: string) => `CRC32(${visitorColumn})`,
  entry: (crcColumn: string) => {
    const registerHash = `((${crcColumn} * ${REGISTER_MULTIPLIER}) & 4294967295)`;
    const rankHash = `((${crcColumn} * ${RANK_MULTIPLIER}) & 4294967295)`;
    const rank = `IF(${rankHash} = 0, ${RANK_BITS + 1}, ${RANK_BITS} - FLOOR(LOG2(${rankHash})))`;
    return `CHAR(${registerHash} >> 24, (${registerHash} >> 16) & 255, (${registerHash} >> 8) & 255, (${registerHash} & 128) | ${rank} USING binary)`;
  },
  header: `X'${FORMAT_SPARSE.toString(16).padStart(2, '0')}${SKETCH_PRECISION.toString(16).padStart(2, '0')}'`,
} as const;

/** Register, fine index and rank of one visitor id, exactly as SKETCH_SQL computes them in a shard. */
export function visitorHash(visitorId: number | bigint | string): { register: number; fine: number; rank: number } {
  const crc = crc32(String(visitorId));
  const registerHash = Math.imul(crc, REGISTER_MULTIPLIER | 0) >>> 0;
  const rankHash = Math.imul(crc, RANK_MULTIPLIER | 0) >>> 0;
  return {
    register: registerHash >>> (32 - SKETCH_PRECISION),
    fine: registerHash >>> (32 - FINE_PRECISION),
    rank: rankHash === 0 ? RANK_BITS + 1 : Math.clz32(rankHash) + 1,
  };
}

function corrupt(message: string): never {
  throw new StrataError(ErrorCode.SketchInvalid, `visitor sketch is corrupt: ${message}`);
}

/**
 * Register-wise maximum of any number of sketches, reusable between sites. It stays sparse (fine index → rank)
 * while the union is small and turns dense once it would not fit a sparse sketch smaller than a dense one.
 */
export class SketchAccumulator {
  readonly registers = new Uint8Array(REGISTER_COUNT);
  private readonly fine = new Map<number, number>();
  private dense = false;

  /** True once the union is too large for the sparse form. */
  get isDense(): boolean {
    return this.dense;
  }

  add(fine: number, rank: number): void {
    if (this.dense) {
      this.raise(fine >>> (FINE_PRECISION - SKETCH_PRECISION), rank);
      return;
    }
    const current = this.fine.get(fine) ?? 0;
    if (rank > current) this.fine.set(fine, rank);
    if (this.fine.size > SPARSE_LIMIT) this.densify();
  }

  addVisitor(visitorId: number | bigint | string): void {
    const { fine, rank } = visitorHash(visitorId);
    this.add(fine, rank);
  }

  /** Merges an encoded sketch into this one. */
  merge(sketch: Uint8Array): void {
    if (sketch.length < HEADER_BYTES) corrupt(`${sketch.length} bytes is shorter than its header`);
    if (sketch[1] !== SKETCH_PRECISION) corrupt(`precision ${sketch[1]}, expected ${SKETCH_PRECISION}`);
    if (sketch[0] === FORMAT_DENSE) {
      if (sketch.length !== DENSE_SKETCH_BYTES) corrupt(`a dense sketch has ${sketch.length} bytes, expected ${DENSE_SKETCH_BYTES}`);
      this.densify();
      for (let register = 0; register < REGISTER_COUNT; register++) {
        const rank = sketch[HEADER_BYTES + register]!;
        if (rank > RANK_BITS + 1) corrupt(`rank ${rank} is out of range`);
        this.raise(register, rank);
      }
    } else if (sketch[0] === FORMAT_SPARSE) {
      if ((sketch.length - HEADER_BYTES) % SPARSE_ENTRY_BYTES !== 0) corrupt(`a sparse sketch of ${sketch.length} bytes is not whole entries`);
      for (let offset = HEADER_BYTES; offset < sketch.length; offset += SPARSE_ENTRY_BYTES) {
        const fine = (sketch[offset]! << 17) | (sketch[offset + 1]! << 9) | (sketch[offset + 2]! << 1) | (sketch[offset + 3]! >> 7);
        const rank = sketch[offset + 3]! & 127;
        if (rank === 0 || rank > RANK_BITS + 1) corrupt(`entry rank ${rank} is out of range`);
        this.add(fine, rank);
      }
    } else {
      corrupt(`unknown format ${sketch[0]}`);
    }
  }

  reset(): void {
    if (this.dense) this.registers.fill(0);
    this.fine.clear();
    this.dense = false;
  }

  /** The smaller of the two encodings. */
  encode(): Buffer {
    if (!this.dense) {
      const entries = [...this.fine.keys()].sort((a, b) => a - b);
      const bytes = Buffer.allocUnsafe(HEADER_BYTES + entries.length * SPARSE_ENTRY_BYTES);
      bytes[0] = FORMAT_SPARSE;
      bytes[1] = SKETCH_PRECISION;
      entries.forEach((fine, index) => bytes.writeUInt32BE(((fine << 7) | this.fine.get(fine)!) >>> 0, HEADER_BYTES + index * SPARSE_ENTRY_BYTES));
      return bytes;
    }
    const bytes = Buffer.allocUnsafe(DENSE_SKETCH_BYTES);
    bytes[0] = FORMAT_DENSE;
    bytes[1] = SKETCH_PRECISION;
    bytes.set(this.registers, HEADER_BYTES);
    return bytes;
  }

  /** Estimated distinct count: linear counting over the fine indexes while sparse, else Ertl's estimator. */
  estimate(): number {
    if (!this.dense) {
      const used = this.fine.size;
      return used === 0 ? 0 : FINE_COUNT * Math.log(FINE_COUNT / (FINE_COUNT - used));
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
    for (const [fine, rank] of this.fine) this.raise(fine >>> (FINE_PRECISION - SKETCH_PRECISION), rank);
    this.fine.clear();
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

/** The sketch of a set of visitor ids, as the hourly rollup would build it in SQL (but sorted and compact). */
export function sketchOf(visitorIds: Iterable<number | bigint | string>): Buffer {
  const accumulator = new SketchAccumulator();
  for (const id of visitorIds) accumulator.addVisitor(id);
  return accumulator.encode();
}
