import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoHistory } from '../../src/cli/commands/demo';
import { DEFAULT_DEMO_DAYS, planDemoHistory, type DemoHistoryPlan } from '../../src/main/sandbox/demo-planner';
import { startTestCluster, type TestCluster } from '../support/cluster';

const DAY_MS = 86_400_000;
const VIEWS = 20_000;

let cluster: TestCluster;
let plan: DemoHistoryPlan;

beforeAll(async () => {
  cluster = await startTestCluster({ shards: 2 });
  plan = planDemoHistory(new Date(), DEFAULT_DEMO_DAYS);
  // The demo's own seeding, only lighter: the same partitions, generator and rollups.
  await seedDemoHistory(cluster.services, plan, { views: VIEWS, sites: 50 }, () => {});
}, 120_000);

afterAll(async () => {
  await cluster?.down();
});

describe("the demo's history on a real 2-shard cluster", () => {
  it('holds page views over at least 9 days, each hour in a raw partition of its own', async () => {
    const spans = await Promise.all(
      [0, 1].map(async (shard) => (await cluster.services.connections.query<Array<{ first: Date; last: Date; n: number }>>(shard, 'SELECT MIN(created_at) AS first, MAX(created_at) AS last, COUNT(*) AS n FROM analytics_realtime'))[0]!),
    );
    expect(spans.reduce((total, span) => total + Number(span.n), 0)).toBe(VIEWS);
    const first = Math.min(...spans.map((span) => span.first.getTime()));
    const last = Math.max(...spans.map((span) => span.last.getTime()));
    expect((last - first) / DAY_MS).toBeGreaterThanOrEqual(9);

    const listed = await cluster.services.partitions.list();
    for (const shard of listed.shards) {
      const raw = shard.tables.find((table) => table.table === 'analytics_realtime')!.partitions;
      const hourly = shard.tables.find((table) => table.table === 'analytics_hourly')!.partitions;
      expect(raw[0]!.to).toBe(new Date(plan.from.getTime() + 3_600_000).toISOString());
      expect(hourly[0]!.to).toBe(new Date(plan.from.getTime() + DAY_MS).toISOString());
    }
  });

  it('is rolled up, so a prune would drop the raw hours past 48 h and the hourly days past 7 days, keeping nothing back', async () => {
    const dryRun = await cluster.services.retention.plan();
    expect(dryRun.ok).toBe(true);
    for (const shard of dryRun.shards) {
      const raw = shard.tables.find((table) => table.table === 'analytics_realtime')!;
      const hourly = shard.tables.find((table) => table.table === 'analytics_hourly')!;
      // Whole days older than the 48 h raw retention, one partition per hour.
      expect(raw.drops.length).toBeGreaterThanOrEqual((DEFAULT_DEMO_DAYS - 2) * 24);
      expect(hourly.drops.length).toBeGreaterThanOrEqual(DEFAULT_DEMO_DAYS - 7);
      expect([...raw.kept, ...hourly.kept]).toEqual([]);
    }
  });

  it('lets an older day be backfilled from its raw rows', async () => {
    const day = new Date(plan.from.getTime() + 2 * DAY_MS);
    const backfill = await cluster.services.backfill.plan({ level: 'hourly', from: day.toISOString(), to: new Date(day.getTime() + DAY_MS).toISOString() });
    expect(backfill.refused).toEqual([]);
    expect(backfill.windows).toHaveLength(24);
    expect(backfill.estimatedSourceRows).toBeGreaterThan(0);
  });
});
