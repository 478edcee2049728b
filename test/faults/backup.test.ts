import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BackupSetRecord } from '../../src/shared/backup';
import { isProcessAlive } from '../../src/main/sandbox/processes';
import { exitOf, until, type FaultCluster, type StrataChild } from '../support/faults/cluster';
import { faultScenario } from '../support/faults/scenario';
import { closedHoursOfTraffic, statementRuns } from '../support/faults/traffic';
import { realSleep } from '../support/time';

/** The dump clients a strata child runs now (direct children named mariadb-dump or mysqldump). */
function dumpClientsOf(parent: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      if (/^(mariadb-dump|mysqldump)$/.test(name) && Number(stat.slice(close + 2).split(' ')[1]) === parent) found.push(Number(entry));
    } catch {
      // It ended while we looked.
    }
  }
  return found;
}

/** No shard's activity registry keeps a claim of a process that is gone (a prune or maintenance would wait on it). */
async function deadClaims(cluster: FaultCluster): Promise<string[]> {
  const running = await cluster.test.services.activities.running();
  return running.filter((record) => !isProcessAlive(record.pid)).map((record) => `shard${record.shard} ${record.kind} claim of pid ${record.pid}, which is gone`);
}

describe('backups that meet a fault', () => {
  it('a shard is SIGKILLed mid-backup: its part fails, the other completes, nothing is left behind, and the next backup is whole', async (context) => {
    await faultScenario(context, {}, async (cluster) => {
      await closedHoursOfTraffic(cluster, 200_000, 40);
      for (const level of ['hourly', 'daily', 'monthly'] as const) expect((await cluster.test.services.rollup.runDue(level, { trigger: 'schedule' })).ok).toBe(true);
      const dest = join(cluster.test.dir, 'backups');
      const backup: StrataChild = cluster.spawnStrata(['backup', 'run', '--include-raw', '--dest', dest, '--json']);
      const dumpPids = new Set<number>();
      const watch = setInterval(() => {
        for (const pid of dumpClientsOf(backup.pid)) dumpPids.add(pid);
      }, 5);
      try {
        // The dump's read of the raw table (`SELECT /*!40001 SQL_NO_CACHE */ * FROM `analytics_realtime``), its longest;
        // it streams 100k rows in well under 0.1 s, so the dump clients are held (SIGSTOP) at the seeded point while
        // the shard is killed, and the kill lands inside the dump on any machine.
        const delay = cluster.rng.int(0, 30);
        const seen = await statementRuns(cluster, 1, '%SQL_NO_CACHE%analytics_realtime%', () => !backup.running());
        await realSleep(delay);
        const held = dumpClientsOf(backup.pid);
        for (const pid of held) process.kill(pid, 'SIGSTOP');
        await cluster.kill(1);
        for (const pid of held) if (isProcessAlive(pid)) process.kill(pid, 'SIGCONT');
        cluster.note(`shard1 killed ${delay} ms after its raw-table read ${seen ? 'started' : '(not seen: the run had ended)'}, ${held.length} dump clients held`);
        const exit = await exitOf(backup);
        cluster.note(`backup exit ${exit.code}`);
        const set = JSON.parse(backup.stdout()) as BackupSetRecord;
        const killedInside = set.parts[1]!.outcome === 'failed';
        cluster.note(`set ${set.state}: ${set.parts.map((part) => `${part.shardName} ${part.outcome}`).join(', ')}`);
        expect(set.parts[0]!.outcome).toBe('ok');
        if (killedInside) {
          expect(exit.code).toBe(1);
          expect(set.state).toBe('partial');
          expect(set.parts[1]!.error?.message).toMatch(/shard1|mariadb-dump failed|Lost connection|ShardUnreachable|127\.0\.0\.1/i);
        } else {
          expect(exit.code).toBe(0);
        }
        expect(readdirSync(dest).filter((name) => name.endsWith('.partial'))).toEqual([]);
      } finally {
        clearInterval(watch);
      }
      for (const pid of dumpPids) expect(isProcessAlive(pid), `dump client pid ${pid}`).toBe(false);
      await cluster.restart(1);
      await until('no claim held by a dead process', async () => ((await deadClaims(cluster)).length === 0 ? true : undefined));
      expect(await deadClaims(cluster)).toEqual([]);

      const again = await cluster.strata(['backup', 'run', '--include-raw', '--dest', dest, '--json']);
      expect(again.stderr).toBe('');
      expect(again.code).toBe(0);
      const second = JSON.parse(again.stdout) as BackupSetRecord;
      expect(second.state).toBe('ok');
      for (const part of second.parts) expect(part.rowCounts.find((entry) => entry.table === 'analytics_realtime')?.rows).toBeGreaterThan(0);
      expect(readdirSync(dest).filter((name) => name.endsWith('.partial'))).toEqual([]);
    });
  });
});
