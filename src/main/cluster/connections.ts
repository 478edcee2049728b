import { Redis } from 'ioredis';
import mysql, { type Pool, type PoolOptions } from 'mysql2/promise';
import { ErrorCode, StrataError } from '../../shared/errors';
import { redactRedisUrl, shardLabel, type Profile, type ShardConfig } from '../../shared/profile';
import { shardForSite } from '../../shared/routing';
import type { SecretResolver } from '../secrets';

export interface ShardHandle {
  index: number;
  label: string;
  config: ShardConfig;
}

export interface ConnectionOptions {
  /** Per-shard pool size; the generator and rollups run a few statements per shard at once. */
  poolSize?: number;
  connectTimeoutMs?: number;
}

/**
 * Owns every connection to the cluster: one mysql2 pool per shard and one Redis client.
 * Pools open lazily, so a profile with a dead shard still serves the others.
 */
export class ClusterConnections {
  private readonly pools = new Map<number, Promise<Pool>>();
  private redisConnection: Redis | undefined;
  private redisPassword: Promise<string | undefined> | undefined;
  private disposed = false;
  readonly shards: readonly ShardHandle[];

  constructor(
    readonly profile: Profile,
    private readonly secrets: SecretResolver,
    private readonly options: ConnectionOptions = {},
  ) {
    this.shards = profile.shards.map((config, index) => ({ index, label: shardLabel(config, index), config }));
  }

  get shardCount(): number {
    return this.shards.length;
  }

  shard(index: number): ShardHandle {
    const handle = this.shards[index];
    if (!handle) throw new StrataError(ErrorCode.UnknownShard, `shard ${index} does not exist; the profile has ${this.shardCount} shards (0-${this.shardCount - 1})`);
    return handle;
  }

  shardOfSite(siteId: number): ShardHandle {
    return this.shard(shardForSite(siteId, this.shardCount));
  }

  pool(index: number): Promise<Pool> {
    const handle = this.shard(index);
    // A pool opened after dispose() would never be closed and would keep the process alive.
    if (this.disposed) return Promise.reject(new StrataError(ErrorCode.Cancelled, `${handle.label}: the cluster connections are closed`));
    let pool = this.pools.get(index);
    if (!pool) {
      pool = this.createPool(handle);
      pool.catch(() => this.pools.delete(index));
      this.pools.set(index, pool);
    }
    return pool;
  }

  /** Runs one statement on a shard, turning driver errors into coded ones that name the shard. */
  async query<T = unknown>(index: number, sql: string, params: unknown[] = []): Promise<T> {
    const handle = this.shard(index);
    try {
      const pool = await this.pool(index);
      const [rows] = await pool.query(sql, params);
      return rows as T;
    } catch (error) {
      throw describeShardError(error, handle);
    }
  }

  /**
   * The one Redis client, its password resolved through the secret resolver once, before the client exists: a
   * missing variable fails here with the resolver's error naming it, not later as NOAUTH from the server.
   */
  async redisClient(): Promise<Redis> {
    if (!this.redisConnection && !this.disposed) {
      if (!this.redisPassword) {
        this.redisPassword = this.secrets.resolve(this.profile.redis, 'redis');
        // A failed resolution is not kept: the next call asks the resolver again.
        this.redisPassword.catch(() => (this.redisPassword = undefined));
      }
      const password = await this.redisPassword;
      if (!this.disposed) this.redisConnection ??= this.createRedis(password);
    }
    return this.redis();
  }

  /**
   * The Redis client for callers that cannot wait. Only a profile whose Redis has no password can create it here;
   * otherwise it must have been created by redisClient() first.
   */
  redis(): Redis {
    if (this.disposed) throw new StrataError(ErrorCode.Cancelled, 'the cluster connections are closed');
    if (!this.redisConnection) {
      if (this.profile.redis.passwordEnv) {
        throw new StrataError(ErrorCode.SecretUnavailable, 'redis: its password has not been resolved yet; use redisClient()');
      }
      this.redisConnection = this.createRedis(undefined);
    }
    return this.redisConnection;
  }

  redisLabel(): string {
    return redactRedisUrl(this.profile.redis.url);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(pools.map(async (pool) => (await pool).end()));
    if (this.redisConnection) {
      const client = this.redisConnection;
      this.redisConnection = undefined;
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    }
  }

  private createRedis(password: string | undefined): Redis {
    const client = new Redis(this.profile.redis.url, {
      password,
      lazyConnect: true,
      connectTimeout: this.options.connectTimeoutMs ?? 3000,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: true,
      retryStrategy: (attempt) => (attempt > 3 ? null : Math.min(attempt * 200, 1000)),
    });
    // Errors surface on the commands that fail; an unhandled 'error' event would crash the host.
    client.on('error', () => {});
    return client;
  }

  private async createPool(handle: ShardHandle): Promise<Pool> {
    const password = await this.secrets.resolve(handle.config, handle.label);
    const options: PoolOptions = {
      host: handle.config.host,
      port: handle.config.port,
      user: handle.config.user,
      password,
      database: handle.config.database,
      connectionLimit: this.options.poolSize ?? 6,
      connectTimeout: this.options.connectTimeoutMs ?? 3000,
      timezone: 'Z',
      dateStrings: false,
      supportBigNumbers: true,
      bigNumberStrings: false,
      enableKeepAlive: true,
      multipleStatements: false,
    };
    const pool = mysql.createPool(options);
    // All times are UTC: every session agrees, whatever the server's own time zone.
    pool.pool.on('connection', (connection) => {
      connection.query("SET time_zone = '+00:00'");
    });
    return pool;
  }
}

interface DriverError {
  code?: string;
  errno?: number;
  message?: string;
}

/** Maps a mysql2 error to a one-line, coded message that names the shard and the cause. */
export function describeShardError(error: unknown, handle: ShardHandle): StrataError {
  if (error instanceof StrataError) return error;
  const driver = (error ?? {}) as DriverError;
  const where = `${handle.label} (${handle.config.host}:${handle.config.port})`;
  switch (driver.code) {
    case 'ECONNREFUSED':
      return new StrataError(ErrorCode.ShardUnreachable, `${where}: connection refused; is the server running?`, { cause: error });
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new StrataError(ErrorCode.ShardUnreachable, `${where}: no answer (${driver.code})`, { cause: error });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StrataError(ErrorCode.ShardUnreachable, `${where}: host name not found`, { cause: error });
    case 'PROTOCOL_CONNECTION_LOST':
    case 'ECONNRESET':
    case 'EPIPE':
      return new StrataError(ErrorCode.ShardUnreachable, `${where}: connection lost`, { cause: error });
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_DBACCESS_DENIED_ERROR':
      return new StrataError(ErrorCode.ShardAuthFailed, `${where}: access denied for user ${handle.config.user} (wrong password or missing grant)`, { cause: error });
    case 'ER_BAD_DB_ERROR':
      return new StrataError(ErrorCode.ShardQueryFailed, `${where}: database ${handle.config.database} does not exist`, { cause: error });
    default:
      return new StrataError(ErrorCode.ShardQueryFailed, `${where}: ${driver.message ?? String(error)}`, { cause: error });
  }
}
