import { describe, expect, it } from 'vitest';
import type { BackfillOutcome } from '../../src/main/backfill/service';
import { exitOf, until, type FaultCluster, type StrataChild } from '../support/faults/cluster';
import { faultScenario } from '../support/faults/scenario';
import { closedHoursOfTraffic, HOUR } from '../support/faults/traffic';

/** Rolled up as the schedules would, then late rows in some hours, so the backfill and its cascade have work to do. */
async function rolledUpWithLateRows(cluster: FaultCluster): Promise<{ from: Date; to: Date }> {
  const { from } = await closedHoursOfTraffic(cluster, 12_000, 60);
  const services = cluster.test.services;
  for (const level of ['hourly', 'daily', 'monthly'] as const) expect((await services.rollup.runDue(level, { trigger: 'schedule' })).ok).toBe(true);
  for (const hour of [2, 5, 9]) for (let shard = 0; shard < cluster.shardCount; shard += 1) await cluster.insertLate(shard, new Date(from.getTime() + hour * HOUR), 7, 8_000_000 + hour * 100);
  return { from, to: new Date(from.getTime() + 12 * HOUR) };
}

/** The id of the backfill the child runs, once it has finished `windows` windows (or ended). */
async function backfillAfter(cluster: FaultCluster, child: StrataChild, windows: number): Promise<number> {
  return until(`the backfill's first ${windows} windows`, async () => {
    const [row] = await cluster.query<Array<{ id: number; windows_done: number }>>(0, 'SELECT id, windows_done FROM strata_backfills WHERE pid = ? ORDER BY id DESC LIMIT 1', [child.pid]);
    return row && (Number(row.windows_done) >= windows || !child.running()) ? Number(row.id) : undefined;
  });
}

async function resumeToDone(cluster: FaultCluster, id: number): Promise<void> {
  const stored = await cluster.test.services.backfill.get(id);
  cluster.note(`backfill ${id} was ${stored.state} at ${stored.windowsDone}/${stored.windowsTotal} windows`);
  if (stored.state === 'done') return;
  const resumed = await cluster.strata(['backfill', '--resume', String(id), '--json']);
  expect(resumed.stderr).toBe('');
  expect(resumed.code).toBe(0);
  expect((JSON.parse(resumed.stdout) as BackfillOutcome).record).toMatchObject({ id, state: 'done' });
}

describe('backfills that meet a fault', () => {
  it('a backfill with cascade loses a shard mid-way; after the restart --resume finishes it', async (context) => {
    await faultScenario(context, {}, async (cluster) => {
      const { from, to } = await rolledUpWithLateRows(cluster);
      const backfill = cluster.spawnStrata(['backfill', '--level', 'hourly', '--from', from.toISOString(), '--to', to.toISOString(), '--cascade', '--json']);
      const windows = cluster.rng.int(1, 11);
      const id = await backfillAfter(cluster, backfill, windows);
      const during = backfill.running();
      await cluster.kill(1);
      cluster.note(`shard1 killed after window ${windows} of 14${during ? '' : ' (the backfill had ended)'}`);
      const exit = await exitOf(backfill);
      cluster.note(`backfill exit ${exit.code}`);
      await cluster.restart(1);
      await resumeToDone(cluster, id);
    });
  });

  it('the strata process is SIGKILLed mid-backfill; --resume runs the windows it had not finished', async (context) => {
    await faultScenario(context, {}, async (cluster) => {
      const { from, to } = await rolledUpWithLateRows(cluster);
      const backfill = cluster.spawnStrata(['backfill', '--level', 'hourly', '--from', from.toISOString(), '--to', to.toISOString(), '--cascade', '--json']);
      const windows = cluster.rng.int(1, 12);
      const id = await backfillAfter(cluster, backfill, windows);
      const during = backfill.running();
      backfill.child.kill('SIGKILL');
      cluster.countFault();
      cluster.note(`strata killed after window ${windows} of 14${during ? '' : ' (it had ended)'}`);
      await exitOf(backfill);
      await until('the backfill to show as interrupted', async () => (await cluster.test.services.backfill.get(id)).state !== 'running');
      await resumeToDone(cluster, id);
    });
  });
});
