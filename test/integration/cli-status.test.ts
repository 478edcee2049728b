import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_CLI, runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

describe('strata status against a real 2-shard cluster', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
  });

  afterAll(async () => {
    await cluster?.down();
  });

  async function writeProfile(name: string, profile: unknown): Promise<string> {
    const path = join(cluster.dir, name);
    await writeFile(path, JSON.stringify(profile));
    return path;
  }

  it('the built CLI bundle (what an installed Strata runs) answers like the sources do', async () => {
    const fromSources = JSON.parse((await runCli(['status', '--json', '--profile', cluster.profilePath])).stdout);
    const built = await runCli(['status', '--json', '--profile', cluster.profilePath], {}, BUILT_CLI);
    expect(built.code).toBe(0);
    const status = JSON.parse(built.stdout);
    expect(status.shards.map((shard: { name: string; reachable: boolean; schemaVersion: number }) => [shard.name, shard.reachable, shard.schemaVersion])).toEqual(
      fromSources.shards.map((shard: { name: string; reachable: boolean; schemaVersion: number }) => [shard.name, shard.reachable, shard.schemaVersion]),
    );
    const help = await runCli(['console', '--help'], {}, BUILT_CLI);
    expect(help.stdout).toContain('serve the operations console');
  });

  it('reports every shard and Redis as healthy, with versions, latency and tables', async () => {
    const run = await runCli(['status', '--json', '--profile', cluster.profilePath]);
    expect(run.code).toBe(0);
    const status = JSON.parse(run.stdout);
    expect(status.healthy).toBe(true);
    expect(status.shards).toHaveLength(2);
    for (const shard of status.shards) {
      expect(shard.reachable).toBe(true);
      expect(shard.serverVersion).toMatch(/MariaDB|^8\./);
      expect(shard.latencyMs).toBeGreaterThanOrEqual(0);
      expect(shard.schemaVersion).toBeGreaterThanOrEqual(1);
      expect(shard.tables.map((table: { table: string }) => table.table)).toEqual([
        'analytics_realtime',
        'analytics_hourly',
        'analytics_daily',
        'analytics_monthly',
      ]);
    }
    expect(status.redis.reachable).toBe(true);
    expect(status.redis.serverVersion).toMatch(/^\d+\./);
  });

  it('takes the profile from STRATA_PROFILE and prints a readable table', async () => {
    const run = await runCli(['status'], { STRATA_PROFILE: cluster.profilePath });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/healthy/);
    expect(run.stdout).toMatch(/shard0\s+up/);
    expect(run.stdout).toMatch(/shard1\s+up/);
  });

  it('says in the table which TLS each shard and Redis use: this cluster connects in plain text', async () => {
    const run = await runCli(['status', '--profile', cluster.profilePath]);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    for (const name of ['shard0', 'shard1', 'redis']) {
      expect(lines.find((line) => new RegExp(`^  ${name}\\s+up `).test(line))).toMatch(/ ms {2}no TLS {2}/);
    }
  });

  it('marks a stopped shard as down with the reason, exits 1, and still reports the others', async () => {
    await cluster.stopShard(1);
    try {
      const run = await runCli(['status', '--json', '--profile', cluster.profilePath]);
      expect(run.code).toBe(1);
      const status = JSON.parse(run.stdout);
      expect(status.healthy).toBe(false);
      expect(status.shards[0].reachable).toBe(true);
      expect(status.shards[1].reachable).toBe(false);
      expect(status.shards[1].problem.message).toMatch(/shard1 .*connection refused/);
    } finally {
      await cluster.startShard(1);
    }
  });

  it('says "access denied" for a wrong password, without printing the password', async () => {
    await cluster.services.connections.query(0, "CREATE USER IF NOT EXISTS 'ops'@'127.0.0.1' IDENTIFIED BY 'right-secret'");
    await cluster.services.connections.query(0, "GRANT ALL ON analytics.* TO 'ops'@'127.0.0.1'");
    const shard = { ...cluster.profile.shards[0], user: 'ops', passwordEnv: 'OPS_PASSWORD' };
    const path = await writeProfile('ops.json', { ...cluster.profile, shards: [shard] });

    const wrong = await runCli(['status', '--json', '--profile', path], { OPS_PASSWORD: 'wrong-secret' });
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout).shards[0].problem.message).toMatch(/access denied for user ops/);
    expect(wrong.stdout + wrong.stderr).not.toContain('wrong-secret');

    const right = await runCli(['status', '--json', '--profile', path], { OPS_PASSWORD: 'right-secret' });
    expect(right.code).toBe(0);
    expect(right.stdout).not.toContain('right-secret');

    const unset = await runCli(['status', '--json', '--profile', path]);
    expect(JSON.parse(unset.stdout).shards[0].problem.message).toMatch(/environment variable OPS_PASSWORD is not set/);
  });

  it('reports a shard on a port where nothing listens as unreachable', async () => {
    const path = await writeProfile('dead.json', { ...cluster.profile, shards: [{ ...cluster.profile.shards[0], port: 1 }] });
    const run = await runCli(['status', '--json', '--profile', path]);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).shards[0].problem.message).toMatch(/127\.0\.0\.1:1\): connection refused/);
  });

  it('refuses an invalid profile with one line naming the field', async () => {
    const path = await writeProfile('bad.json', { shards: [{ host: 'x', port: 'three', user: 'u', database: 'd' }], redis: { url: 'redis://x:1' } });
    const run = await runCli(['status', '--profile', path]);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/error 2002 \(ProfileInvalid\): profile .*bad\.json: shards\[0\]\.port: /);
  });

  it('refuses a missing profile and a profile that is not JSON', async () => {
    expect((await runCli(['status'])).stderr).toMatch(/no cluster profile given: pass --profile FILE or set STRATA_PROFILE/);
    const missing = await runCli(['status', '--profile', join(cluster.dir, 'nope.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file/);
    const path = join(cluster.dir, 'broken.json');
    await writeFile(path, '{ shards: ');
    expect((await runCli(['status', '--profile', path])).stderr).toMatch(/is not valid JSON/);
  });
});
