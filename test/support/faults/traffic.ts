import type { FaultCluster, StrataChild } from './cluster';
import { until } from './cluster';
import { realSleep } from '../time';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** Yesterday 00:00 UTC: from there to the current hour lies within raw retention (48 h) and the raw partitions. */
export function yesterday(): Date {
  return new Date(Math.floor(Date.now() / DAY) * DAY - DAY);
}

export function currentHour(): Date {
  return new Date(Math.floor(Date.now() / HOUR) * HOUR);
}

export const monthOf = (at: Date) => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
export const nextMonthOf = (at: Date) => new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));

/** Every closed hour from yesterday 00:00 to the current hour, on both shards. */
export async function closedHoursOfTraffic(cluster: FaultCluster, views = 12_000, sites = 40): Promise<{ from: Date; to: Date }> {
  const from = yesterday();
  const to = currentHour();
  await cluster.generate({ from, to, sites, views, seed: cluster.rng.int(1, 1_000_000) });
  return { from, to };
}

/**
 * Waits until the shard runs a statement of the child's run (`statement`, a LIKE pattern over the process list), then
 * a seeded pause of up to `maxDelayMs`, then SIGKILLs the shard. If the run ended first, the shard is killed all the
 * same: the fault still happens, only after the run, and the line says so.
 */
export async function killShardDuring(cluster: FaultCluster, child: StrataChild, shard: number, statement: string, maxDelayMs: number): Promise<number> {
  const delay = cluster.rng.int(0, maxDelayMs);
  await statementRuns(cluster, shard, statement, () => !child.running());
  await realSleep(delay);
  const during = child.running();
  await cluster.kill(shard);
  cluster.note(`shard${shard} killed ${delay} ms after its first ${statement} statement, ${during ? 'while the run went on' : 'after the run had ended'}`);
  return delay;
}

/**
 * Traffic rolled up as the schedules would, and raw retention cut to its minimum (5 h), so every raw hour older
 * than that may be pruned: the prune has partitions to drop on every shard.
 */
export async function prunableCluster(cluster: FaultCluster, views = 12_000): Promise<{ from: Date; to: Date; cutoff: Date }> {
  const range = await closedHoursOfTraffic(cluster, views, 60);
  for (const level of ['hourly', 'daily', 'monthly'] as const) await cluster.test.services.rollup.runDue(level, { trigger: 'schedule' });
  const set = await cluster.strata(['retention', 'set', '--raw-hours', '5', '--json']);
  if (set.code !== 0) throw new Error(`retention set failed: ${set.stderr}`);
  return { ...range, cutoff: new Date(currentHour().getTime() - 5 * HOUR) };
}

/** Polls a shard's process list until a statement matching `pattern` runs there (from any session), or `stop` says so. */
export async function statementRuns(cluster: FaultCluster, shard: number, pattern: string, stop: () => boolean): Promise<boolean> {
  const seen = await until(
    `a statement like ${pattern} on shard${shard}`,
    async () => {
      if (stop()) return 'stopped';
      const [row] = await cluster.query<Array<{ n: number }>>(shard, 'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND ID <> CONNECTION_ID()', [pattern]);
      return Number(row?.n ?? 0) > 0 ? 'seen' : undefined;
    },
    undefined,
    5,
  );
  return seen === 'seen';
}
