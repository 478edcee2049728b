import mysql from 'mysql2/promise';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('strata sandbox', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'strata-sandbox-cli-'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('starts shards and Redis, applies the schema, and restarts the same data after down', async () => {
    const dir = join(root, 'cluster');
    const up = await runCli(['sandbox', 'up', '--dir', dir, '--shards', '2', '--json']);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    const info = JSON.parse(up.stdout);
    expect(info.profilePath).toBe(join(dir, 'profile.json'));
    expect(info.shardPorts).toHaveLength(2);
    try {
      const status = await runCli(['status', '--json', '--profile', info.profilePath]);
      expect(status.code).toBe(0);

      const connection = await mysql.createConnection({ host: '127.0.0.1', port: info.shardPorts[1], user: 'root', database: 'analytics' });
      await connection.query("INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) VALUES (1, UTC_TIMESTAMP(), 42, '/kept')");
      await connection.end();

      expect((await runCli(['sandbox', 'down', '--dir', dir])).code).toBe(0);
      const afterDown = await runCli(['status', '--json', '--profile', info.profilePath]);
      expect(afterDown.code).toBe(1);
      expect(JSON.parse(afterDown.stdout).shards.every((shard: { reachable: boolean }) => !shard.reachable)).toBe(true);

      const again = await runCli(['sandbox', 'up', '--dir', dir, '--shards', '2', '--json']);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ restarted: true, shardPorts: info.shardPorts });
      const reopened = await mysql.createConnection({ host: '127.0.0.1', port: info.shardPorts[1], user: 'root', database: 'analytics' });
      const [rows] = await reopened.query("SELECT COUNT(*) AS n FROM analytics_realtime WHERE path = '/kept'");
      await reopened.end();
      expect((rows as Array<{ n: number }>)[0]?.n).toBe(1);
    } finally {
      await runCli(['sandbox', 'down', '--dir', dir]);
    }
  });

  it('refuses a port that another process holds, and creates nothing', async () => {
    const blocker = await listen(0);
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const dir = join(root, 'blocked');
    try {
      const run = await runCli(['sandbox', 'up', '--dir', dir, '--shards', '1', '--base-port', String(port)]);
      expect(run.code).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(new RegExp(`port ${port} \\(shard0\\) is already in use`));
      expect(await exists(dir)).toBe(false);
    } finally {
      blocker.close();
    }
  });

  it('says exactly what to install when the server binaries are missing', async () => {
    const dir = join(root, 'nobinaries');
    const run = await runCli(['sandbox', 'up', '--dir', dir], { STRATA_SERVER_PATH: join(root, 'empty-bin') });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/not found on PATH: mariadbd or mysqld \(apt-get install -y mariadb-server\); redis-server \(apt-get install -y redis-server\)/);
    expect(await exists(dir)).toBe(false);
  });

  it('refuses a folder that holds something else, and leaves it untouched', async () => {
    const dir = join(root, 'occupied');
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'mine');
    const run = await runCli(['sandbox', 'up', '--dir', dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/exists and is not a Strata sandbox/);
    expect(await readdir(dir)).toEqual(['notes.txt']);
  });

  it('refuses down on a folder without a sandbox, and bad numbers', async () => {
    const down = await runCli(['sandbox', 'down', '--dir', join(root, 'never')]);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/no sandbox in .*never/);
    const shards = await runCli(['sandbox', 'up', '--dir', join(root, 'x'), '--shards', 'two']);
    expect(shards.code).not.toBe(0);
    expect(shards.stderr).toMatch(/--shards must be a whole number/);
    const zero = await runCli(['sandbox', 'up', '--dir', join(root, 'x'), '--shards', '0']);
    expect(zero.stderr).toMatch(/--shards must be a whole number from 1 to 16/);
  });
});
