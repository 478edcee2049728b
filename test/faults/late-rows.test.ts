import { describe, expect, it } from 'vitest';
import { faultScenario } from '../support/faults/scenario';
import { closedHoursOfTraffic, currentHour, HOUR } from '../support/faults/traffic';
import type { FaultCluster } from '../support/faults/cluster';

async function rolledUp(cluster: FaultCluster): Promise<void> {
  await closedHoursOfTraffic(cluster);
  for (const level of ['hourly', 'daily', 'monthly'] as const) expect((await cluster.test.services.rollup.runDue(level, { trigger: 'schedule' })).ok).toBe(true);
}

async function lateRows(cluster: FaultCluster, hoursBack: number): Promise<Date> {
  const hour = new Date(currentHour().getTime() - hoursBack * HOUR);
  const rows = cluster.rng.int(10, 40);
  for (let shard = 0; shard < cluster.shardCount; shard += 1) await cluster.insertLate(shard, hour, rows, 5_000_000 + shard * 1000);
  cluster.countFault();
  cluster.note(`${rows} late rows per shard ${hoursBack} h late, in ${hour.toISOString()}`);
  return hour;
}

describe('late rows', () => {
  it('inside the re-roll window: the next hourly run picks them up and the day above follows', async (context) => {
    await faultScenario(context, {}, async (cluster) => {
      await rolledUp(cluster);
      await lateRows(cluster, cluster.rng.int(1, 3));
      for (const level of ['hourly', 'daily']) {
        const run = await cluster.strata(['rollup', '--level', level, '--json']);
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
      }
    });
  });

  it('outside the re-roll window: strata reconcile finds them and rolls them up with cascade', async (context) => {
    await faultScenario(context, {}, async (cluster) => {
      await rolledUp(cluster);
      await lateRows(cluster, cluster.rng.int(6, 12));
      const hourly = await cluster.strata(['rollup', '--level', 'hourly', '--json']);
      expect(hourly.code).toBe(0);
      const reconciled = await cluster.strata(['reconcile', '--json']);
      expect(reconciled.stderr).toBe('');
      expect(reconciled.code).toBe(0);
    });
  });
});
