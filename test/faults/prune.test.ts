import { describe, expect, it } from 'vitest';
import { exitOf, lateSite } from '../support/faults/cluster';
import { faultScenario } from '../support/faults/scenario';
import { realSleep } from '../support/time';
import { HOUR, monthOf, nextMonthOf, prunableCluster, statementRuns } from '../support/faults/traffic';

describe('prune under faults', () => {
  it('a prune loses a shard mid-way; after the restart a second prune finishes, and nothing not rolled up is gone', async (context) => {
    await faultScenario(context, {}, async (cluster) => {
      await prunableCluster(cluster);
      const prune = cluster.spawnStrata(['prune', '--yes', '--json']);
      const seen = await statementRuns(cluster, 1, '%analytics_%', () => !prune.running());
      const delay = cluster.rng.int(0, 300);
      await realSleep(delay);
      const during = prune.running();
      await cluster.kill(1);
      cluster.note(`shard1 killed ${delay} ms after ${seen ? 'its first prune statement' : 'the prune ended'}${during ? ', while the prune ran' : ''}`);
      const exit = await exitOf(prune);
      cluster.note(`prune exit ${exit.code}`);
      if (during) expect(prune.stderr()).not.toMatch(/Can't add new command when connection is in closed state/);
      await cluster.restart(1);
      const again = await cluster.strata(['prune', '--yes', '--json']);
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
    });
  });

  it('late rows keep landing in expired hours while a prune drops them: none that committed is lost', async (context) => {
    await faultScenario(context, {}, async (cluster) => {
      const { from, cutoff } = await prunableCluster(cluster);
      const expiredHours = Math.floor((cutoff.getTime() - from.getTime()) / HOUR);
      const prune = cluster.spawnStrata(['prune', '--yes', '--json']);
      let committed = 0;
      let refused = 0;
      // A committed late row must end up in raw or hourly; one the server refused (its partition is gone) was never stored.
      while (prune.running()) {
        const shard = cluster.rng.int(0, cluster.shardCount - 1);
        const hour = new Date(from.getTime() + cluster.rng.int(0, expiredHours - 1) * HOUR);
        try {
          await cluster.insertLate(shard, hour, 1, 7_000_000 + committed + refused);
          committed += 1;
        } catch {
          refused += 1;
        }
        await realSleep(cluster.rng.int(0, 5));
      }
      cluster.countFault();
      cluster.note(`${committed} late rows committed and ${refused} refused during the prune`);
      expect((await exitOf(prune)).code).toBe(0);
      // The hours prune kept are rolled up again. A pruned hour is not: its rolled-up raw rows are gone by design, and a
      // late row that landed after the drop (in the next partition) must not replace the hour's rows with itself.
      const services = cluster.test.services;
      for (let offset = 0; offset < expiredHours; offset += 1) {
        const start = new Date(from.getTime() + offset * HOUR);
        for (let shard = 0; shard < cluster.shardCount; shard += 1) {
          const [row] = await cluster.query<Array<{ n: number }>>(shard, 'SELECT COUNT(*) AS n FROM analytics_realtime WHERE created_at >= ? AND created_at < ? AND site_id <> ?', [start, new Date(start.getTime() + HOUR), lateSite(cluster.shardCount, shard)]);
          if (Number(row?.n ?? 0) > 0) expect((await services.rollup.runRange('hourly', start, new Date(start.getTime() + HOUR), { trigger: 'manual', shards: [shard] })).ok).toBe(true);
        }
      }
      // …and carried up to the days and months above them.
      expect((await services.rollup.runRange('daily', from, cutoff, { trigger: 'manual' })).ok).toBe(true);
      expect((await services.rollup.runRange('monthly', monthOf(from), nextMonthOf(cutoff), { trigger: 'manual' })).ok).toBe(true);
    });
  });
});
