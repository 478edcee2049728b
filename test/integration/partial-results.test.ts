import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

/** The partial-result lines of a run's stderr, one per shard it could not read. */
const partialLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('strata: partial result: '));

describe('commands that read several shards say when a shard is missing (real 2-shard cluster)', () => {
  let cluster: TestCluster;
  const cli = (...args: string[]) => runCli([...args, '--profile', cluster.profilePath]);

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
    // One run recorded on each shard, so the history of the shard that stays up has something to show.
    const hour = new Date(Date.UTC(2026, 10, 20, 5));
    await cluster.services.rollup.runRange('hourly', hour, new Date(hour.getTime() + 3_600_000), { trigger: 'manual', fencingToken: 0 });
  });

  afterAll(async () => {
    await cluster?.down();
  });

  it('with a shard stopped, runs, retention runs, rollup --dry-run and partitions list name it on stderr and exit 1', async () => {
    await cluster.stopShard(1);
    try {
      const runs = await cli('runs', '--json');
      expect(runs.code).toBe(1);
      // The answer is still the list of runs of the shards that answered.
      const listed = JSON.parse(runs.stdout) as Array<{ shard: number }>;
      expect(listed.length).toBeGreaterThan(0);
      expect(listed.every((run) => run.shard === 0)).toBe(true);
      expect(partialLines(runs.stderr)).toEqual([expect.stringMatching(/^strata: partial result: the run history lacks shard1: error 3001 \(ShardUnreachable\): shard1 \(127\.0\.0\.1:\d+\): connection refused/)]);

      const text = await cli('runs');
      expect(text.code).toBe(1);
      expect(text.stdout).toMatch(/shard0 +hourly/);
      expect(partialLines(text.stderr)).toHaveLength(1);

      const retentionRuns = await cli('retention', 'runs');
      expect(retentionRuns.code).toBe(1);
      expect(partialLines(retentionRuns.stderr)).toEqual([expect.stringMatching(/the run history lacks shard1: error 3001/)]);

      const dryRun = await cli('rollup', '--level', 'hourly', '--dry-run');
      expect(dryRun.code).toBe(1);
      expect(dryRun.stdout).toMatch(/shard1 +DOWN: /);
      expect(partialLines(dryRun.stderr)).toEqual([expect.stringMatching(/the dry run lacks shard1: error 3001/)]);

      const listed1 = await cli('partitions', 'list', '--shards', '1');
      expect(listed1.code).toBe(1);
      expect(partialLines(listed1.stderr)).toEqual([expect.stringMatching(/the partition list lacks shard1: error 3001/)]);
      const listed0 = await cli('partitions', 'list', '--shards', '0', '--json');
      expect(listed0.code).toBe(0);
      expect(JSON.parse(listed0.stdout).shards.map((shard: { name: string }) => shard.name)).toEqual(['shard0']);
      expect(listed0.stderr).toBe('');

      const plan = await cli('partitions', 'plan', '--shards', '1');
      expect(plan.code).toBe(1);
      expect(partialLines(plan.stderr)).toHaveLength(1);
    } finally {
      await cluster.startShard(1);
    }
  });

  it('with every shard stopped, rollup --dry-run exits 1 and names both', async () => {
    await cluster.stopShard(0);
    await cluster.stopShard(1);
    try {
      const dryRun = await cli('rollup', '--level', 'daily', '--dry-run', '--json');
      expect(dryRun.code).toBe(1);
      expect(JSON.parse(dryRun.stdout).shards.every((shard: { problem?: unknown }) => shard.problem)).toBe(true);
      expect(partialLines(dryRun.stderr).map((line) => /lacks (shard\d)/.exec(line)?.[1])).toEqual(['shard0', 'shard1']);
    } finally {
      await cluster.startShard(0);
      await cluster.startShard(1);
    }
  });

  it('with every shard up, the same commands exit 0 and print no partial-result line', async () => {
    for (const args of [['runs'], ['retention', 'runs'], ['rollup', '--level', 'hourly', '--dry-run'], ['partitions', 'list', '--shards', '1']]) {
      const run = await cli(...args);
      expect({ args, code: run.code, partial: partialLines(run.stderr) }).toEqual({ args, code: 0, partial: [] });
    }
  });

  it('refuses bad option values and ancient ranges in one coded line with exit 2, before reading the profile', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['partitions', 'list', '--shards', 'one'], /^strata: error 1001 \(InvalidInput\): --shards must be shard indexes separated by commas, such as 0,2; got 'one'$/],
      [['console', '--port', '99999'], /^strata: error 1001 \(InvalidInput\): --port must be a port number from 1 to 65535, got '99999'$/],
      [['agent', '--lease-ttl', '0'], /^strata: error 1001 \(InvalidInput\): --lease-ttl must be a number of seconds from 1 to 3600, got '0'$/],
      [['rollup', '--level', 'daily', '--from', '1000-01-01', '--to', '1001-01-01', '--dry-run'], /^strata: error 7001 \(RollupInvalid\): --from 1000-01-01 is outside the times Strata works with/],
    ];
    for (const [args, message] of cases) {
      const run = await runCli([...args, '--profile', join(cluster.dir, 'no-such-profile.json')]);
      expect({ args, code: run.code, stderr: run.stderr.trim() }).toEqual({ args, code: 2, stderr: expect.stringMatching(message) });
    }
    // A time as Strata prints it is taken back.
    const printed = await cli('rollup', '--level', 'hourly', '--from', '2026-11-20T05:00Z', '--to', '2026-11-20T06:00Z', '--dry-run');
    expect(printed.code).toBe(0);
    expect(printed.stdout).toMatch(/shard0 +2026-11-20T05:00Z → 2026-11-20T06:00Z/);
  });

  it('names a folder given as the profile, and the line and column of broken JSON', async () => {
    const folder = join(cluster.dir, 'profiles');
    await mkdir(folder, { recursive: true });
    const asFolder = await runCli(['status', '--profile', folder]);
    expect(asFolder.code).toBe(2);
    expect(asFolder.stderr.trim()).toBe(`strata: error 2001 (ProfileMissing): cannot read profile ${folder}: it is a folder, not a profile file`);
    const broken = join(cluster.dir, 'broken.json');
    await writeFile(broken, '{\n  "shards": [\n    { "host": "x", }\n  ]\n}\n');
    expect((await runCli(['status', '--profile', broken])).stderr.trim()).toBe(`strata: error 2002 (ProfileInvalid): profile ${broken} is not valid JSON: unexpected "}" at line 3, column 20`);
    const empty = join(cluster.dir, 'empty-object.json');
    await writeFile(empty, '{}');
    expect((await runCli(['status', '--profile', empty])).stderr).toMatch(/shards: required: a profile lists at least one shard/);
  });

  it('says why Redis cannot be used: refused, wrong password, no password, each with its URL and a code', async () => {
    const withRedisPassword = join(cluster.dir, 'redis-password.json');
    await writeFile(withRedisPassword, JSON.stringify({ ...cluster.profile, redis: { ...cluster.profile.redis, passwordEnv: 'TEST_REDIS_PASSWORD' } }));
    const redisProblem = async (path: string, env: NodeJS.ProcessEnv = {}) => JSON.parse((await runCli(['status', '--json', '--profile', path], env)).stdout).redis.problem;

    const url = cluster.profile.redis.url.replace(/\/\d+$/, '');
    const redis = await cluster.services.connections.redisClient();
    await redis.config('SET', 'requirepass', 'right-secret');
    try {
      expect(await redisProblem(withRedisPassword, { TEST_REDIS_PASSWORD: 'wrong-secret' })).toEqual({
        code: 3009,
        message: expect.stringMatching(new RegExp(`^Redis ${url}.*: the server refused the login: the password in TEST_REDIS_PASSWORD is wrong$`)),
      });
      expect(await redisProblem(cluster.profilePath)).toEqual({ code: 3009, message: expect.stringMatching(/the server asks for a password and the profile gives none/) });
      expect(await redisProblem(withRedisPassword)).toEqual({ code: 2003, message: 'redis: environment variable TEST_REDIS_PASSWORD is not set' });
    } finally {
      await redis.config('SET', 'requirepass', '');
    }

    await cluster.stopRedis();
    try {
      const problem = await redisProblem(cluster.profilePath);
      expect(problem).toEqual({ code: 3004, message: expect.stringMatching(/^Redis redis:\/\/127\.0\.0\.1:\d+.*: connection refused; is the server running\?$/) });
      expect(problem.message).not.toMatch(/max retries|Connection is closed/);
    } finally {
      await cluster.startRedis();
    }
  });
});
