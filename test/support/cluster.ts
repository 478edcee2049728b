import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Profile } from '../../src/shared/profile';
import { silentLogger } from '../../src/main/log';
import type { SandboxTls } from '../../src/main/sandbox/planner';
import { SandboxManager } from '../../src/main/sandbox/sandbox';
import { EnvSecretResolver } from '../../src/main/secrets';
import { createServices, type ServiceOptions, type StrataServices } from '../../src/main/services';

export interface TestCluster {
  dir: string;
  profilePath: string;
  profile: Profile;
  /** Services wired by the real composition root against this cluster. */
  services: StrataServices;
  stopShard(index: number): Promise<void>;
  startShard(index: number): Promise<void>;
  /** Stops redis-server; it runs without persistence, so it starts again empty. */
  stopRedis(): Promise<void>;
  startRedis(): Promise<void>;
  /** Disposes the services, stops every server and deletes the folder. */
  down(): Promise<void>;
}

export interface TestClusterOptions {
  shards?: number;
  /** Apply the Strata schema after start (default true). */
  schema?: boolean;
  /** Options of the services (a clock, shorter timings); the profile, secrets and logger are the cluster's. */
  services?: Omit<ServiceOptions, 'profile' | 'secrets' | 'logger'>;
  /** Servers that accept only TLS, with these certificates; the profile then connects with TLS required. */
  tls?: SandboxTls;
  /** Start the sandbox's prometheus-node-exporter, so the profile names each shard's host metrics (default false). */
  nodeExporter?: boolean;
}

/** Starts real mariadbd and redis-server processes in a fresh temp folder, through the same harness as `strata sandbox`. */
export async function startTestCluster(options: TestClusterOptions = {}): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-test-'));
  const sandbox = new SandboxManager(silentLogger.scope('sandbox'));
  const info = await sandbox.up({ dir, shards: options.shards ?? 2, nodeExporter: options.nodeExporter ?? false, ...(options.tls ? { tls: options.tls } : {}) });
  const services = createServices({ ...options.services, profile: info.profile, secrets: new EnvSecretResolver(), logger: silentLogger });
  try {
    if (options.schema ?? true) {
      const report = await services.schema.apply();
      if (!report.ok) throw new Error(`schema apply failed in the test cluster: ${JSON.stringify(report)}`);
    }
  } catch (error) {
    await services.dispose();
    await sandbox.down(dir);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    profilePath: info.profilePath,
    profile: info.profile,
    services,
    stopShard: (index) => sandbox.stopShard(dir, index),
    startShard: (index) => sandbox.startShard(dir, index),
    stopRedis: () => sandbox.stopRedisServer(dir),
    startRedis: () => sandbox.startRedisServer(dir),
    async down() {
      await services.dispose();
      await sandbox.down(dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
