import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { exitOf, lateSite } from '../support/faults/cluster';
import { faultScenario } from '../support/faults/scenario';
import { realSleep } from '../support/time';
import { HOUR, prunableCluster, statementRuns } from '../support/faults/traffic';

/** "About a second": a DDL that waits behind the long transaction must give up (and retry) before inserts notice. */
const STALL_LIMIT_MS = 1500;

describe('ingestion while DDL waits behind a long transaction', () => {
  it('a steady inserter sees no stall while prune and partition apply meet an open read transaction', async (context) => {
    await faultScenario(context, {}, async (cluster) => {
      await prunableCluster(cluster);
      const ahead = await cluster.strata(['partitions', 'ahead', '--table', 'analytics_realtime', '--days', '10', '--json']);
      expect(ahead.code).toBe(0);
      const shard = cluster.test.profile.shards[0]!;
      const connect = () => mysql.createConnection({ host: shard.host, port: shard.port, user: shard.user, database: shard.database, timezone: 'Z' });
      const reader = await connect();
      const writer = await connect();
      try {
        await reader.query('START TRANSACTION');
        await reader.query('SELECT COUNT(*) FROM analytics_realtime');
        cluster.countFault();
        let stop = false;
        let slowest = 0;
        let phase = 'before the jobs';
        let slowestPhase = phase;
        let inserted = 0;
        const inserter = (async () => {
          while (!stop) {
            const at = new Date();
            const started = performance.now();
            await writer.query('INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) VALUES (?, ?, ?, ?)', [lateSite(cluster.shardCount, 0), at, 6_000_000 + inserted, '/steady']);
            const took = performance.now() - started;
            if (took > slowest) [slowest, slowestPhase] = [took, phase];
            cluster.ledger.add(0, Math.floor(at.getTime() / HOUR) * HOUR, 1, lateSite(cluster.shardCount, 0));
            inserted += 1;
            await realSleep(20);
          }
        })();
        try {
          for (const args of [['prune', '--yes', '--json'], ['partitions', 'apply', '--json']]) {
            const job = cluster.spawnStrata(args);
            const name = args.filter((arg) => !arg.startsWith('--')).join(' ');
            phase = `strata ${name}`;
            await statementRuns(cluster, 0, '%ALTER TABLE%', () => !job.running());
            // Held well past any sensible lock wait, then let go, so a job that waits forever still ends.
            const held = cluster.rng.int(4000, 6000);
            const deadline = Date.now() + held;
            while (job.running() && Date.now() < deadline) await realSleep(50);
            cluster.note(`${name} ${job.running() ? 'still waited' : 'had given up'} after ${held} ms behind the read transaction`);
            await reader.query('COMMIT');
            await exitOf(job);
            await reader.query('START TRANSACTION');
            await reader.query('SELECT COUNT(*) FROM analytics_realtime');
          }
        } finally {
          stop = true;
          await inserter;
        }
        cluster.note(`${inserted} steady inserts, the slowest ${Math.round(slowest)} ms (${slowestPhase})`);
        expect(slowest).toBeLessThan(STALL_LIMIT_MS);
      } finally {
        await reader.end().catch(() => {});
        await writer.end().catch(() => {});
      }
      const prune = await cluster.strata(['prune', '--yes', '--json']);
      expect(prune.code).toBe(0);
      const apply = await cluster.strata(['partitions', 'apply', '--json']);
      expect(apply.code).toBe(0);
    });
  });
});
