import { startTestCluster, type TestCluster, type TestClusterOptions } from '../test/support/cluster';

/**
 * A sandbox for one benchmark run, stopped when the run ends, fails or is interrupted (SIGINT/SIGTERM), so a
 * benchmark never leaves servers behind. `beforeDown` stops whatever the run started against it first.
 */
export async function startBenchCluster(
  options: TestClusterOptions = { shards: 2 },
  beforeDown: () => Promise<void> = async () => {},
): Promise<{ cluster: TestCluster; stop: () => Promise<void> }> {
  const cluster = await startTestCluster(options);
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= beforeDown().finally(() => cluster.down()));
  const onSignal = () => void stop().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return { cluster, stop };
}
