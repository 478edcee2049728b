import { describe, expect, it } from 'vitest';
import { exitOf, until, type FaultCluster, type StrataChild } from '../support/faults/cluster';
import { faultScenario } from '../support/faults/scenario';
import { realSleep } from '../support/time';
import { closedHoursOfTraffic } from '../support/faults/traffic';

const COUNTER_KEY = 'strata:lease:scheduler:fencing-token';

function startAgent(cluster: FaultCluster): StrataChild {
  return cluster.spawnStrata(['agent', '--lease-ttl', '2']);
}

const tokenAcquired = (agent: StrataChild, after = 0): number | undefined => {
  const tokens = [...agent.stdout().matchAll(/lease acquired with fencing token (\d+)/g)].map((match) => Number(match[1]));
  return tokens.find((token, index) => index >= after && token > 0);
};

async function hourlyWatermarks(cluster: FaultCluster): Promise<number[]> {
  const marks: number[] = [];
  for (let shard = 0; shard < cluster.shardCount; shard += 1) {
    const [row] = await cluster.query<Array<{ watermark: Date | null }>>(shard, "SELECT watermark FROM strata_watermarks WHERE level = 'hourly'");
    marks.push(row?.watermark?.getTime() ?? 0);
  }
  return marks;
}

async function stopAgent(agent: StrataChild): Promise<void> {
  agent.child.kill('SIGTERM');
  expect(await exitOf(agent)).toEqual({ code: 0, signal: null });
}

describe('agents under faults', () => {
  it('Redis is killed under a running agent and comes back empty: the agent moves the watermarks again', async (context) => {
    await faultScenario(context, {}, async (cluster) => {
      await closedHoursOfTraffic(cluster);
      // A cluster that has run for a while: its fencing counter, and so its watermarks' tokens, are well past 1.
      const redis = await cluster.test.services.connections.redisClient();
      await redis.incrby(COUNTER_KEY, cluster.rng.int(10, 30));
      const agent = startAgent(cluster);
      await until('the catch-up to finish', () => /run rollup-monthly catch-up token \d+/.test(agent.stdout()));
      const caughtUp = await hourlyWatermarks(cluster);
      await cluster.kill('redis');
      // Windows the agent has to run again once Redis is back, as after an outage.
      for (let shard = 0; shard < cluster.shardCount; shard += 1) {
        await cluster.query(shard, "UPDATE strata_watermarks SET watermark = watermark - INTERVAL 3 HOUR WHERE level = 'hourly'");
      }
      const down = cluster.rng.int(0, 3000);
      await realSleep(down);
      await cluster.restart('redis');
      cluster.note(`redis down ${down} ms, restarted empty`);
      await until('the hourly watermarks to move again after the restart', async () => (await hourlyWatermarks(cluster)).every((mark, shard) => mark >= caughtUp[shard]!), 60_000);
      await stopAgent(agent);
    });
  });

  it('an agent frozen past its lease is taken over; resumed, its late writes are fenced and nothing is written twice', async (context) => {
    await faultScenario(context, {}, async (cluster) => {
      await closedHoursOfTraffic(cluster, 24_000, 200);
      const first = startAgent(cluster);
      const firstToken = await until('the first agent to take the lease', () => tokenAcquired(first));
      const second = startAgent(cluster);
      await until('the second agent to stand by', () => second.stdout().includes('agent running'));
      const delay = cluster.rng.int(0, 1500);
      await realSleep(delay);
      first.child.kill('SIGSTOP');
      cluster.countFault();
      const secondToken = await until('the second agent to take over', () => tokenAcquired(second));
      const takeover = Date.now();
      cluster.note(`first agent (token ${firstToken}) frozen ${delay} ms into its catch-up; the second took over with token ${secondToken}`);
      expect(secondToken).toBeGreaterThan(firstToken);
      await until('the second agent to catch up', () => /run rollup-monthly catch-up token \d+/.test(second.stdout()));
      first.child.kill('SIGCONT');
      await until('the resumed agent to notice it lost the lease', () => first.stdout().includes(`lease (token ${firstToken}) lost`));
      // Every watermark written since the takeover carries the new token: the frozen agent moved none.
      for (let shard = 0; shard < cluster.shardCount; shard += 1) {
        const rows = await cluster.query<Array<{ level: string; fencing_token: number; updated_at: Date | null }>>(shard, 'SELECT level, fencing_token, updated_at FROM strata_watermarks');
        for (const row of rows) if (row.updated_at && row.updated_at.getTime() >= takeover) expect(Number(row.fencing_token), `shard${shard} ${row.level}`).toBeGreaterThanOrEqual(secondToken);
      }
      await stopAgent(first);
      await stopAgent(second);
      const lease = await cluster.test.services.lease.status();
      expect(lease.held).toBe(false);
    });
  });
});
