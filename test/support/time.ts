import type { Redis } from 'ioredis';

// Taken before any test fakes the timers, so polling keeps to real time while the code under test runs on fake time.
const realSetTimeout = globalThis.setTimeout;

/** A pause in real time, whatever vi.useFakeTimers did to setTimeout. */
export function realSleep(ms: number): Promise<void> {
  return new Promise((resolve) => realSetTimeout(resolve, ms));
}

/** Polls until `check` holds; the timeout only bounds a broken test, it asserts nothing about speed. */
export async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await realSleep(25);
  }
}

// Redis counts expiry on its own clock, which a test cannot move; these scripts move the keys instead, atomically.
const AGE_KEY_LUA = `
local left = redis.call('PTTL', KEYS[1])
if left < 0 then return left end
if left <= tonumber(ARGV[1]) then redis.call('DEL', KEYS[1]) return 0 end
redis.call('PEXPIRE', KEYS[1], left - tonumber(ARGV[1]))
return left - tonumber(ARGV[1])`;

const AGE_SCORES_LUA = `
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do redis.call('ZINCRBY', KEYS[1], -tonumber(ARGV[1]), member) end
return redis.call('ZCARD', KEYS[1])`;

/** As if `ms` had passed on the Redis server for a key with a TTL (a lease): its TTL shrinks, and it goes once that runs out. */
export async function ageKey(redis: Redis, key: string, ms: number): Promise<void> {
  await redis.eval(AGE_KEY_LUA, 1, key, ms);
}

/** As if `ms` had passed on the Redis server for a sorted set whose scores are expiry times (shard activity claims). */
export async function ageExpiryScores(redis: Redis, key: string, ms: number): Promise<void> {
  await redis.eval(AGE_SCORES_LUA, 1, key, ms);
}
