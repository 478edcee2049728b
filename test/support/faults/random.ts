/** The suite's seed: STRATA_FAULT_SEED replays a run; otherwise a fixed default, so CI runs are repeatable too. */
export const DEFAULT_FAULT_SEED = 20_261_130;

export function faultSeed(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.STRATA_FAULT_SEED?.trim();
  if (!text) return DEFAULT_FAULT_SEED;
  const seed = Number(text);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`STRATA_FAULT_SEED must be a non-negative integer, got '${text}'`);
  return seed;
}

/** Kill points drawn from a seeded generator: the same seed and scenario give the same faults at the same points. */
export interface FaultRandom {
  readonly seed: number;
  /** A whole number in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
}

function hashName(name: string): number {
  let hash = 2166136261;
  for (let index = 0; index < name.length; index += 1) hash = Math.imul(hash ^ name.charCodeAt(index), 16777619);
  return hash >>> 0;
}

/**
 * mulberry32, seeded per scenario from the suite's seed and the scenario's name, so one scenario replays the same
 * whether it runs alone or with the others.
 */
export function faultRandom(scenario: string, seed = faultSeed()): FaultRandom {
  let state = (seed ^ hashName(scenario)) >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new Error('nothing to pick from');
      return items[Math.floor(next() * items.length)] as T;
    },
  };
}
