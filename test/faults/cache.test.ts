import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { CacheInvalidationResult } from '../../src/shared/cache';
import { exitOf, until } from '../support/faults/cluster';
import { faultScenario } from '../support/faults/scenario';
import { closedHoursOfTraffic } from '../support/faults/traffic';
import { realSleep } from '../support/time';

const PREFIX = 'laravel_database_laravel_cache_:';
const SITES = 20_000;
const DAYS = ['2026-11-28', '2026-11-29', '2026-11-30', '2026-12-01'];
const OTHER_KEYS = [`${PREFIX}user_7_profile`, 'other_app:chart_7_1d_2026-11-30_2026-11-30'];

async function appKeyCount(redis: Redis): Promise<number> {
  let count = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 5000);
    cursor = next;
    count += keys.filter((key) => !OTHER_KEYS.includes(key)).length;
  } while (cursor !== '0');
  return count;
}

describe('the application cache under faults', () => {
  it('strata cache invalidate --all is SIGKILLed mid-delete: part of the keys are gone, a rerun deletes exactly the rest, other keys survive', async (context) => {
    await faultScenario(context, {}, async (cluster) => {
      await closedHoursOfTraffic(cluster);
      const redis = new Redis(cluster.test.profile.redis.url, { maxRetriesPerRequest: 1 });
      try {
        const total = SITES * (DAYS.length + 1);
        for (let site = 1; site <= SITES; site += 1000) {
          const batch = redis.pipeline();
          for (let id = site; id < site + 1000; id += 1) {
            batch.set(`${PREFIX}site_${id}_stats_24h`, '{}', 'EX', 3600);
            for (const day of DAYS) batch.set(`${PREFIX}chart_${id}_1d_${day}_${day}`, '{}', 'EX', 3600);
          }
          await batch.exec();
        }
        for (const key of OTHER_KEYS) await redis.set(key, 'kept');
        expect(await appKeyCount(redis)).toBe(total);

        const child = cluster.spawnStrata(['cache', 'invalidate', '--all', '--yes', '--json']);
        await until('the invalidation to start deleting', async () => ((await appKeyCount(redis)) < total ? true : undefined), 90_000, 5);
        const delay = cluster.rng.int(0, 200);
        await realSleep(delay);
        child.child.kill('SIGKILL');
        cluster.countFault();
        const exit = await exitOf(child);
        const left = await appKeyCount(redis);
        cluster.note(`strata cache invalidate SIGKILLed ${delay} ms after its first deletes (${exit.signal ?? `exit ${exit.code}`}): ${left} of ${total} keys left`);

        const rerun = await cluster.strata(['cache', 'invalidate', '--all', '--yes', '--json']);
        expect(rerun.code, rerun.stderr).toBe(0);
        const result = JSON.parse(rerun.stdout) as CacheInvalidationResult;
        expect(result).toMatchObject({ dryRun: false, matched: left, deleted: left });
        expect(await appKeyCount(redis)).toBe(0);
        for (const key of OTHER_KEYS) expect(await redis.get(key)).toBe('kept');
      } finally {
        redis.disconnect();
      }
    });
  });
});
