import { describe, expect, it } from 'vitest';
import { formatStatus } from '../../src/cli/commands/status';
import type { ClusterStatus } from '../../src/shared/contract';

const shard = (index: number, tls?: string): ClusterStatus['shards'][number] => ({
  index,
  name: `shard${index}`,
  host: '10.0.0.5',
  port: 3306,
  database: 'analytics',
  reachable: true,
  serverVersion: '11.4.2-MariaDB',
  latencyMs: 0.84,
  schemaVersion: 6,
  ...(tls ? { tls } : {}),
  tables: [],
});

describe('strata status text', () => {
  it('names the TLS protocol and cipher of every shard and of Redis, or says there is none', () => {
    const text = formatStatus({
      checkedAt: '2026-12-02T07:00:00.000Z',
      profileName: 'prod',
      healthy: true,
      warnings: [],
      shards: [shard(0, 'TLSv1.3 TLS_AES_256_GCM_SHA384'), shard(1)],
      redis: { url: 'rediss://10.0.0.9:6380/0', reachable: true, serverVersion: '7.0.15', latencyMs: 0.3, usedMemoryBytes: 1_048_576, tls: 'TLSv1.3 TLS_AES_128_GCM_SHA256' },
    });
    expect(text.split('\n')).toEqual([
      'prod: healthy (checked 2026-12-02T07:00:00.000Z)',
      '  shard0     up    10.0.0.5:3306/analytics  11.4.2-MariaDB  0.8 ms  TLSv1.3 TLS_AES_256_GCM_SHA384  schema v6',
      '  shard1     up    10.0.0.5:3306/analytics  11.4.2-MariaDB  0.8 ms  no TLS  schema v6',
      '  redis      up    rediss://10.0.0.9:6380/0  7.0.15  0.3 ms  TLSv1.3 TLS_AES_128_GCM_SHA256  1.0 MiB used',
    ]);
  });
});
