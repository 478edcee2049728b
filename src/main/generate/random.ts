/**
 * Seeded randomness for the traffic generator: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator)
 * seeded through splitmix32, and murmur3's 32-bit finaliser for hashing. Plain 32-bit integer arithmetic,
 * so the same seed gives the same numbers on every machine and Node version.
 */

const GOLDEN_GAMMA = 0x9e3779b9;
const TWO_POW_32 = 4294967296;

/** murmur3 fmix32: a bijection on 32-bit integers that spreads every input bit over the output. */
export function mix32(value: number): number {
  let h = value | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** sfc32; `float()` gives [0, 1) with 32 bits of resolution. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private counter = 1;

  /** One independent stream per (seed, stream): the generator gives every hour bucket its own. */
  constructor(seed: number, stream = 0) {
    let state = mix32(seed ^ mix32(stream + GOLDEN_GAMMA));
    const next = (): number => {
      state = (state + GOLDEN_GAMMA) | 0;
      return mix32(state);
    };
    this.a = next();
    this.b = next();
    this.c = next();
    // sfc32's first outputs are correlated with a weak seed; its author recommends discarding a dozen.
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.counter) | 0;
    this.counter = (this.counter + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  float(): number {
    return this.uint32() / TWO_POW_32;
  }
}

export function siteKeyFor(seed: number, siteId: number): number {
  return mix32(siteId ^ mix32(seed));
}

/**
 * A 53-bit id for the index-th visitor of a site. Within one site the low 32 bits are a bijection of the
 * index, so two visitors of a site never share an id; 53 bits keep ids exact as JavaScript numbers.
 */
export function visitorIdFor(siteKey: number, index: number): number {
  const low = mix32(index ^ siteKey);
  const high = mix32(low ^ mix32(siteKey + GOLDEN_GAMMA)) & 0x1fffff;
  return high * TWO_POW_32 + low;
}
