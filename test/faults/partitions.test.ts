import { describe, expect, it } from 'vitest';
import { exitOf } from '../support/faults/cluster';
import { faultScenario } from '../support/faults/scenario';
import { realSleep } from '../support/time';
import { closedHoursOfTraffic, statementRuns } from '../support/faults/traffic';

describe('partition maintenance under faults', () => {
  it('a partition apply loses a shard inside its ALTER; after the restart apply completes and the schema has no drift', async (context) => {
    await faultScenario(context, {}, async (cluster) => {
      await closedHoursOfTraffic(cluster);
      for (const level of ['hourly', 'daily', 'monthly'] as const) await cluster.test.services.rollup.runDue(level, { trigger: 'schedule' });
      // Weeks more of hourly partitions: one long REORGANIZE PARTITION per shard to be killed inside.
      const ahead = await cluster.strata(['partitions', 'ahead', '--table', 'analytics_realtime', '--days', '40', '--json']);
      expect(ahead.code).toBe(0);
      const apply = cluster.spawnStrata(['partitions', 'apply', '--json']);
      const seen = await statementRuns(cluster, 1, '%REORGANIZE PARTITION%', () => !apply.running());
      const delay = cluster.rng.int(0, 400);
      await realSleep(delay);
      const during = apply.running();
      await cluster.kill(1);
      cluster.note(`shard1 killed ${delay} ms after ${seen ? 'its ALTER began' : 'the apply ended'}${during ? ', while the apply ran' : ''}`);
      cluster.note(`apply exit ${(await exitOf(apply)).code}`);
      await cluster.restart(1);
      const again = await cluster.strata(['partitions', 'apply', '--json']);
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
      const check = await cluster.strata(['schema', 'check', '--json']);
      expect(check.code).toBe(0);
    });
  });
});
