import type { TestContext } from 'vitest';
import { expect } from 'vitest';
import { startFaultCluster, type FaultCluster, type FaultClusterOptions } from './cluster';
import { faultSeed } from './random';
import { reconcile, type Reconciliation } from './reconcile';

/** What one scenario reports to the fault reporter, through the test's meta. */
export interface FaultTally {
  seed: number;
  faults: number;
  rowsReconciled: number;
  rowsLost: number;
  /** Where the faults landed. */
  notes: string[];
  /** The first problems the reconciliation found, for the scenario's line. */
  problems: string[];
}

declare module 'vitest' {
  interface TaskMeta {
    fault?: FaultTally;
  }
}

/**
 * Runs one scenario on its own sandbox: `body` injects the faults and recovers, then the reconciliation runs and is
 * reported (also when the body failed, so the line says how far the cluster got); the sandbox is always removed.
 */
export async function faultScenario(
  context: TestContext,
  options: Omit<FaultClusterOptions, 'scenario'>,
  body: (cluster: FaultCluster) => Promise<void>,
): Promise<Reconciliation> {
  const cluster = await startFaultCluster({ ...options, scenario: context.task.name });
  const tally: FaultTally = { seed: faultSeed(), faults: 0, rowsReconciled: 0, rowsLost: 0, notes: [], problems: [] };
  context.task.meta.fault = tally;
  try {
    let failure: unknown;
    try {
      await body(cluster);
    } catch (error) {
      failure = error;
    }
    tally.faults = cluster.faults;
    tally.notes = [...cluster.notes];
    const result = await reconcile(cluster);
    tally.rowsReconciled = result.rowsReconciled;
    tally.rowsLost = result.rowsLost;
    tally.problems = result.problems.slice(0, 5);
    if (failure) throw failure;
    expect(result.problems, 'the reconciliation after the fault').toEqual([]);
    expect(result.rowsLost).toBe(0);
    return result;
  } finally {
    await cluster.down();
  }
}
