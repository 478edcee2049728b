import { describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/shared/profile';
import { planSandbox, type SandboxState } from '../../src/main/sandbox/planner';

const state: SandboxState = { version: 1, kind: 'mariadb', database: 'analytics', shardPorts: [41000, 41001, 41002], redisPort: 41003 };
const binaries = { kind: 'mariadb' as const, server: '/usr/sbin/mariadbd', installDb: '/usr/bin/mariadb-install-db', redis: '/usr/bin/redis-server' };

describe('sandbox plan', () => {
  const plan = planSandbox('/srv/sandbox', state, binaries, true);

  it('gives every shard its own folder, port and loopback-only server', () => {
    expect(plan.shards.map((shard) => shard.dataDir)).toEqual(['/srv/sandbox/shard0/data', '/srv/sandbox/shard1/data', '/srv/sandbox/shard2/data']);
    for (const shard of plan.shards) {
      expect(shard.serverCommand.args[0]).toBe('--no-defaults');
      expect(shard.serverCommand.args).toContain(`--port=${shard.port}`);
      expect(shard.serverCommand.args).toContain('--bind-address=127.0.0.1');
      expect(shard.serverCommand.args).toContain('--default-time-zone=+00:00');
    }
    expect(plan.redis.command.args).toEqual(expect.arrayContaining(['--bind', '127.0.0.1', '--port', '41003']));
  });

  it('writes a profile that passes validation and routes to the planned ports', () => {
    const parsed = parseProfile(plan.profile);
    expect(parsed.ok).toBe(true);
    expect(plan.profile.shards.map((shard) => shard.port)).toEqual([41000, 41001, 41002]);
    expect(plan.profile.redis.url).toBe('redis://127.0.0.1:41003/0');
  });

  it('initialises MySQL 8 with --initialize-insecure and keeps X Protocol off its port range', () => {
    const mysqlPlan = planSandbox('/srv/s', { ...state, kind: 'mysql' }, { kind: 'mysql', server: '/usr/sbin/mysqld', redis: 'redis-server' }, false);
    const shard = mysqlPlan.shards[0];
    expect(shard?.initCommand.args).toContain('--initialize-insecure');
    expect(shard?.serverCommand.args).toContain('--mysqlx=OFF');
    expect(shard?.serverCommand.args).not.toContain('--user=root');
  });
});
