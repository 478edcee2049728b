import { describe, expect, it } from 'vitest';
import { exitOf } from '../support/faults/cluster';
import { faultScenario } from '../support/faults/scenario';
import { closedHoursOfTraffic, DAY, killShardDuring, monthOf, nextMonthOf } from '../support/faults/traffic';

describe('a shard killed during a rollup', () => {
  it('hourly: the due run on the other shard finishes, the killed shard resumes from its watermark after a restart', async (context) => {
    await faultScenario(context, {}, async (cluster) => {
      await closedHoursOfTraffic(cluster, 24_000);
      const run = cluster.spawnStrata(['rollup', '--level', 'hourly']);
      await killShardDuring(cluster, run, 1, '%analytics_hourly%', 400);
      await exitOf(run);
      await cluster.restart(1);
      const again = await cluster.strata(['rollup', '--level', 'hourly', '--json']);
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
    });
  });

  it('daily: the merge read on the dead shard ends with an error instead of hanging, and a re-run completes the days', async (context) => {
    await faultScenario(context, {}, async (cluster) => {
      const { from, to } = await closedHoursOfTraffic(cluster, 24_000, 400);
      expect((await cluster.test.services.rollup.runRange('hourly', from, to, { trigger: 'manual' })).ok).toBe(true);
      const range = ['--from', from.toISOString(), '--to', new Date(from.getTime() + 2 * DAY).toISOString()];
      const run = cluster.spawnStrata(['rollup', '--level', 'daily', ...range]);
      await killShardDuring(cluster, run, 1, '%FROM analytics_hourly%', 60);
      await exitOf(run);
      await cluster.restart(1);
      const again = await cluster.strata(['rollup', '--level', 'daily', ...range, '--json']);
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
    });
  });

  it('monthly: the month read on the dead shard ends with an error instead of hanging, and a re-run completes the month', async (context) => {
    await faultScenario(context, {}, async (cluster) => {
      const { from, to } = await closedHoursOfTraffic(cluster, 24_000, 400);
      const services = cluster.test.services;
      expect((await services.rollup.runRange('hourly', from, to, { trigger: 'manual' })).ok).toBe(true);
      expect((await services.rollup.runRange('daily', from, new Date(from.getTime() + 2 * DAY), { trigger: 'manual' })).ok).toBe(true);
      const range = ['--from', monthOf(from).toISOString(), '--to', nextMonthOf(to).toISOString()];
      const run = cluster.spawnStrata(['rollup', '--level', 'monthly', ...range]);
      await killShardDuring(cluster, run, 1, '%FROM analytics_daily%', 40);
      await exitOf(run);
      await cluster.restart(1);
      const again = await cluster.strata(['rollup', '--level', 'monthly', ...range, '--json']);
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
    });
  });
});
