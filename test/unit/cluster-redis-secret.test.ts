import { describe, expect, it } from 'vitest';
import { ClusterConnections } from '../../src/main/cluster/connections';
import { RedisLease } from '../../src/main/lease/lease';
import { EnvSecretResolver } from '../../src/main/secrets';
import { ControlShard } from '../../src/main/state';
import { ErrorCode } from '../../src/shared/errors';
import type { Profile } from '../../src/shared/profile';

const shard = { host: '127.0.0.1', port: 1, user: 'strata', database: 'analytics' };
const profileWithRedisPassword: Profile = { shards: [shard], redis: { url: 'redis://127.0.0.1:1/0', passwordEnv: 'STRATA_TEST_REDIS_PASSWORD' } };

describe("the Redis password comes from the profile's secret resolver", () => {
  it('names the missing environment variable instead of connecting without a password', async () => {
    const connections = new ClusterConnections(profileWithRedisPassword, new EnvSecretResolver({}));
    try {
      await expect(connections.redisClient()).rejects.toMatchObject({ code: ErrorCode.SecretUnavailable, message: 'redis: environment variable STRATA_TEST_REDIS_PASSWORD is not set' });
      // The lease is what an agent touches first: it reports the same sentence, not a Redis NOAUTH.
      await expect(new RedisLease(connections, new ControlShard(connections)).status()).rejects.toThrow('redis: environment variable STRATA_TEST_REDIS_PASSWORD is not set');
    } finally {
      await connections.dispose();
    }
  });

  it('gives the resolved password to the client, and asks the resolver again once the variable is set', async () => {
    const env: NodeJS.ProcessEnv = {};
    const connections = new ClusterConnections(profileWithRedisPassword, new EnvSecretResolver(env));
    try {
      await expect(connections.redisClient()).rejects.toThrow('STRATA_TEST_REDIS_PASSWORD');
      env.STRATA_TEST_REDIS_PASSWORD = 'from-the-resolver';
      const client = await connections.redisClient();
      expect(client.options.password).toBe('from-the-resolver');
      expect(connections.redis()).toBe(client);
    } finally {
      await connections.dispose();
    }
  });
});
