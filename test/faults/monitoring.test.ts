import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AlertTransition } from '../../src/shared/alerts';
import { scopeKey } from '../../src/shared/monitor';
import { exitOf, until, type FaultCluster, type StrataChild } from '../support/faults/cluster';
import { faultScenario } from '../support/faults/scenario';
import { closedHoursOfTraffic } from '../support/faults/traffic';
import { realSleep } from '../support/time';

const RULE = 'shard-unreachable';
const SCOPE = 'shard:1';

function startAgent(cluster: FaultCluster): StrataChild {
  return cluster.spawnStrata(['agent', '--lease-ttl', '2']);
}

const holdsLease = (agent: StrataChild) => /lease acquired with fencing token \d+/.test(agent.stdout());

async function stateOf(cluster: FaultCluster): Promise<string | undefined> {
  const list = await cluster.test.services.alerts.list({ includeResolved: true });
  return list.alerts.find((alert) => alert.rule === RULE && scopeKey(alert.scope) === SCOPE)?.state;
}

async function transitionsOf(cluster: FaultCluster): Promise<AlertTransition[]> {
  const history = await cluster.test.services.alerts.history({ limit: 1000, rule: RULE });
  return history.filter((transition) => transition.scope === SCOPE).reverse();
}

describe('monitoring and alerts under faults', () => {
  it('a shard dies under a monitoring agent that is SIGKILLed while the alert fires: the next agent resolves it once the shard is back, and no state change is written twice', async (context) => {
    await faultScenario(context, {}, async (cluster) => {
      await closedHoursOfTraffic(cluster);
      // The agents probe every 5 s (the profile's floor) and the rule fires at once, so the scenario takes seconds.
      const profile = JSON.parse(readFileSync(cluster.test.profilePath, 'utf8')) as Record<string, unknown>;
      writeFileSync(cluster.test.profilePath, JSON.stringify({ ...profile, monitor: { probeIntervalSeconds: 5 } }, null, 2));
      await cluster.test.services.alerts.setRule({ rule: RULE, forSeconds: 0 });

      const first = startAgent(cluster);
      await until('the first agent to take the lease', () => holdsLease(first));
      await until('a first evaluation', async () => (await cluster.test.services.alerts.list({ includeResolved: true })).evaluatedAt);
      await cluster.kill(1);
      await until(`${RULE} on ${SCOPE} to fire`, async () => ((await stateOf(cluster)) === 'firing' ? true : undefined));
      const delay = cluster.rng.int(0, 6000);
      await realSleep(delay);
      first.child.kill('SIGKILL');
      cluster.countFault();
      cluster.note(`shard1 killed; the agent holding the lease SIGKILLed ${delay} ms after the alert fired`);
      await exitOf(first);

      const second = startAgent(cluster);
      await until('the second agent to take the lease', () => holdsLease(second));
      await cluster.restart(1);
      await until(`${RULE} on ${SCOPE} to resolve`, async () => ((await stateOf(cluster)) === 'resolved' ? true : undefined));

      const changes = await transitionsOf(cluster);
      cluster.note(`transitions: ${changes.map((change) => `${change.from}→${change.to}`).join(', ')}`);
      // One chain, oldest first: each change starts where the one before ended, and fires and resolves once each.
      for (const [index, change] of changes.entries()) if (index > 0) expect(change.from).toBe(changes[index - 1]!.to);
      expect(changes.filter((change) => change.to === 'firing')).toHaveLength(1);
      expect(changes.filter((change) => change.to === 'resolved')).toHaveLength(1);
      expect(changes.at(-1)?.to).toBe('resolved');

      second.child.kill('SIGTERM');
      expect(await exitOf(second)).toEqual({ code: 0, signal: null });
    });
  });
});
