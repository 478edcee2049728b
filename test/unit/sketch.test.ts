import { describe, expect, it } from 'vitest';
import { DENSE_SKETCH_BYTES, estimateSketch, mergeSketches, REGISTER_COUNT, SketchAccumulator, sketchOf, sparseEntry, visitorHash } from '../../src/main/sketch/hll';
import { ErrorCode } from '../../src/shared/errors';

/** Deterministic pseudo-random 53-bit ids, like the generator's visitor ids. */
function* randomIds(count: number, seed: number): Generator<number> {
  let state = seed >>> 0;
  const next = () => (state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0);
  for (let i = 0; i < count; i++) yield (next() & 0x1fffff) * 4294967296 + next();
}

function* sequentialIds(count: number, first = 1): Generator<number> {
  for (let i = 0; i < count; i++) yield first + i;
}

const relativeError = (estimate: number, exact: number) => Math.abs(estimate - exact) / exact;

describe('HyperLogLog visitor sketch (p = 14)', () => {
  it.each([10, 100, 1_000, 10_000, 100_000, 1_000_000])('estimates %i random visitors within 2 %', (size) => {
    expect(relativeError(estimateSketch(sketchOf(randomIds(size, size))), size)).toBeLessThanOrEqual(0.02);
  });

  it.each([10, 1_000, 50_000, 300_000])('estimates %i sequential visitor ids (1, 2, 3 …) within 2 %', (size) => {
    expect(relativeError(estimateSketch(sketchOf(sequentialIds(size))), size)).toBeLessThanOrEqual(0.02);
  });

  it('counts small sets exactly, as a dashboard would show them', () => {
    for (const size of [1, 2, 7, 10, 50]) expect(Math.round(estimateSketch(sketchOf(randomIds(size, 99))))).toBe(size);
    expect(estimateSketch(mergeSketches([]))).toBe(0);
  });

  it('keeps its mean error near the theoretical 0.81 % over many sets', () => {
    const errors = Array.from({ length: 20 }, (_, seed) => relativeError(estimateSketch(sketchOf(randomIds(50_000, seed + 1))), 50_000));
    const mean = errors.reduce((sum, error) => sum + error, 0) / errors.length;
    expect(mean).toBeLessThan(0.012);
  });

  it('merges into the sketch of the union, never a sum: overlapping days count returning visitors once', () => {
    const monday = [...randomIds(30_000, 1)];
    const tuesday = [...monday.slice(0, 20_000), ...randomIds(10_000, 2)];
    const merged = mergeSketches([sketchOf(monday), sketchOf(tuesday)]);
    expect(merged.equals(sketchOf([...monday, ...tuesday]))).toBe(true);
    expect(relativeError(estimateSketch(merged), 40_000)).toBeLessThanOrEqual(0.02);
  });

  it('merging is order-free and idempotent', () => {
    const parts = [sketchOf(randomIds(500, 3)), sketchOf(randomIds(20_000, 4)), sketchOf(randomIds(7, 5))];
    const forward = mergeSketches(parts);
    expect(mergeSketches([...parts].reverse()).equals(forward)).toBe(true);
    expect(mergeSketches([forward, ...parts]).equals(forward)).toBe(true);
  });

  it('stays sparse (4 bytes a visitor) while smaller than dense, then switches to one byte a register', () => {
    const small = sketchOf(randomIds(100, 6));
    expect(small[0]).toBe(3);
    expect(small.length).toBe(2 + 4 * 100);
    const large = sketchOf(randomIds(100_000, 7));
    expect(large[0]).toBe(4);
    expect(large.length).toBe(DENSE_SKETCH_BYTES);
  });

  it('counts every small set exactly, where 16,384 registers alone would collide', () => {
    for (let seed = 1; seed <= 200; seed++) expect(Math.round(estimateSketch(sketchOf(randomIds(37 + seed, seed))))).toBe(37 + seed);
  });

  it('reads the unsorted, repeating sparse entries SQL writes (one per page view), keeping each visitor once', () => {
    const [a, b, c] = ['17', '4711', '9007199254740991'].map((id) => visitorHash(id).hash);
    const sqlBytes = Buffer.concat([Buffer.from([3, 14]), ...[c!, a!, c!, b!, a!, c!].map(sparseEntry)]);
    const accumulator = new SketchAccumulator();
    accumulator.merge(sqlBytes);
    const sorted = [a!, b!, c!].sort((x, y) => x - y);
    expect(accumulator.encode().equals(Buffer.concat([Buffer.from([3, 14]), ...sorted.map(sparseEntry)]))).toBe(true);
    expect(accumulator.encode().equals(sketchOf(['9007199254740991', '17', '4711', '17']))).toBe(true);
    expect(Math.round(accumulator.estimate())).toBe(3);
  });

  it('turns one SQL sketch with many repeats into the same sketch as its distinct visitors, sparse or dense', () => {
    for (const size of [1_000, 20_000]) {
      const ids = [...randomIds(size, size + 1)];
      const perPageView = Buffer.concat([Buffer.from([3, 14]), ...[...ids, ...ids.slice(0, size / 2), ...ids.slice(0, 10)].map((id) => sparseEntry(visitorHash(id).hash))]);
      expect(mergeSketches([perPageView]).equals(sketchOf(ids))).toBe(true);
    }
  });

  it('builds the same dense sketch register by register as from the visitors', () => {
    const ids = [...randomIds(30_000, 12)];
    const registers = new Map<number, number>();
    for (const id of ids) {
      const { register, rank } = visitorHash(id);
      registers.set(register, Math.max(rank, registers.get(register) ?? 0));
    }
    const accumulator = new SketchAccumulator();
    for (const [register, rank] of registers) accumulator.addRegister(register, rank);
    expect(accumulator.encode().equals(sketchOf(ids))).toBe(true);
    expect(() => accumulator.addRegister(REGISTER_COUNT, 1)).toThrow(expect.objectContaining({ code: ErrorCode.SketchInvalid }));
    expect(() => accumulator.addRegister(0, 34)).toThrow(expect.objectContaining({ code: ErrorCode.SketchInvalid }));
  });

  it('refuses sketches written with the earlier visitor hash (formats 1 and 2) rather than merging them wrongly', () => {
    for (const bytes of [Buffer.from([1, 14, 0, 0, 0, 129]), Buffer.concat([Buffer.from([2, 14]), Buffer.alloc(REGISTER_COUNT)])]) {
      expect(() => mergeSketches([sketchOf(['1']), bytes])).toThrow(expect.objectContaining({ code: ErrorCode.SketchInvalid, message: expect.stringMatching(/earlier visitor hash.*re-roll the hourly windows/) }));
    }
  });

  it('hashes a visitor to a register of 14 bits and a rank of 1 to 33, the same for every rendering of the id', () => {
    for (const id of randomIds(1000, 8)) {
      const { hash, register, fine, rank } = visitorHash(id);
      expect(hash).toBeGreaterThanOrEqual(0);
      expect(hash).toBeLessThan(2 ** 31);
      expect(fine >>> 11).toBe(register);
      expect(register).toBeGreaterThanOrEqual(0);
      expect(register).toBeLessThan(REGISTER_COUNT);
      expect(rank).toBeGreaterThanOrEqual(1);
      expect(rank).toBeLessThanOrEqual(33);
      expect(visitorHash(BigInt(id))).toEqual({ hash, register, fine, rank });
      expect(visitorHash(String(id))).toEqual({ hash, register, fine, rank });
    }
  });

  it('resets between sites without carrying registers over', () => {
    const accumulator = new SketchAccumulator();
    for (const id of randomIds(50_000, 9)) accumulator.addVisitor(id);
    expect(accumulator.isDense).toBe(true);
    accumulator.reset();
    expect(accumulator.isDense).toBe(false);
    expect(accumulator.registers.every((rank) => rank === 0)).toBe(true);
    accumulator.addVisitor(42);
    expect(Math.round(accumulator.estimate())).toBe(1);
  });
});
