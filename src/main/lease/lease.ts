import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ErrorCode, StrataError } from '../../shared/errors';
import { leaseHolderSchema, type LeaseHolder, type LeaseStatus } from '../../shared/schedule';
import type { ClusterConnections } from '../cluster/connections';
import type { ControlShard } from '../state/control-shard';
import { ClusterFencingTokens, type FencingTokenSource } from './fencing';

/** How long a lease lives unless renewed; the keeper renews it at a third of this. */
export const DEFAULT_LEASE_TTL_MS = 30_000;

/** Who asks for the lease: written into its value so `strata lease` can name the holder. */
export interface LeaseIdentity {
  id: string;
  host: string;
  pid: number;
}

/** A lease this process holds: `value` is the exact Redis value, which renew and release compare against. */
export interface LeaseGrant {
  holder: LeaseHolder;
  value: string;
}

/**
 * One named, cluster-wide lease in Redis with a fencing token. Only compare-and-set operations touch the key,
 * so a holder whose lease lapsed can never renew or delete its successor's.
 */
export interface ClusterLease {
  readonly key: string;
  readonly ttlMs: number;
  readonly identity: LeaseIdentity;
  /**
   * Takes the lease if it is free, with a new fencing token greater than every token handed out before and every
   * token a reachable watermark holds; undefined when someone else holds it.
   */
  tryAcquire(): Promise<LeaseGrant | undefined>;
  /**
   * Gives a held lease a new, higher token (above every watermark that answers now); undefined when this grant no
   * longer holds it. For a holder fenced by a token it could not see when it took the lease.
   */
  retoken(grant: LeaseGrant): Promise<LeaseGrant | undefined>;
  /** Extends the lease by its TTL if this grant still holds it; false when it lapsed or changed hands. */
  renew(grant: LeaseGrant): Promise<boolean>;
  /** Deletes the lease if this grant still holds it; false (and nothing deleted) otherwise. */
  release(grant: LeaseGrant): Promise<boolean>;
  status(): Promise<LeaseStatus>;
}

export interface RedisLeaseOptions {
  /** Lease name under the `strata:lease:` prefix; one Redis database serves one cluster. */
  name?: string;
  ttlMs?: number;
  identity?: Partial<LeaseIdentity>;
  clock?: () => Date;
  /** Where tokens come from besides Redis; the control shard's counter and the watermarks by default. */
  fencing?: FencingTokenSource;
}

// SET NX PX takes the lease; the token is INCR'd in the same script, so no lease ever exists without one.
const ACQUIRE_LUA = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
local token = redis.call('INCR', KEYS[2])
local holder = cjson.decode(ARGV[1])
holder['token'] = token
local value = cjson.encode(holder)
redis.call('SET', KEYS[1], value, 'XX', 'PX', ARGV[2])
return value`;

// Replaces the token of a lease this value still holds, keeping its expiry, and raises the counter to it.
const RETOKEN_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local left = redis.call('PTTL', KEYS[1])
if left <= 0 then left = tonumber(ARGV[3]) end
redis.call('SET', KEYS[1], ARGV[2], 'PX', left)
if tonumber(redis.call('GET', KEYS[2]) or '0') < tonumber(ARGV[4]) then redis.call('SET', KEYS[2], ARGV[4]) end
return 1`;

const RENEW_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

interface LeaseCommands {
  strataLeaseAcquire(lease: string, counter: string, holder: string, ttlMs: number): Promise<string | null>;
  strataLeaseRetoken(lease: string, counter: string, value: string, newValue: string, ttlMs: number, token: number): Promise<number>;
  strataLeaseRenew(lease: string, value: string, ttlMs: number): Promise<number>;
  strataLeaseRelease(lease: string, value: string): Promise<number>;
}

function withLeaseCommands(client: Redis): Redis & LeaseCommands {
  if (typeof (client as Partial<LeaseCommands>).strataLeaseAcquire !== 'function') {
    client.defineCommand('strataLeaseAcquire', { numberOfKeys: 2, lua: ACQUIRE_LUA });
    client.defineCommand('strataLeaseRetoken', { numberOfKeys: 2, lua: RETOKEN_LUA });
    client.defineCommand('strataLeaseRenew', { numberOfKeys: 1, lua: RENEW_LUA });
    client.defineCommand('strataLeaseRelease', { numberOfKeys: 1, lua: RELEASE_LUA });
  }
  return client as Redis & LeaseCommands;
}

/** The holder a lease value names, or undefined for a value no Strata wrote. */
export function parseLeaseValue(value: string | null | undefined): LeaseHolder | undefined {
  if (!value) return undefined;
  try {
    const parsed = leaseHolderSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export function newLeaseIdentity(overrides: Partial<LeaseIdentity> = {}): LeaseIdentity {
  return {
    id: overrides.id ?? randomBytes(6).toString('hex'),
    host: overrides.host ?? hostname(),
    pid: overrides.pid ?? process.pid,
  };
}

/** The lease on the cluster's Redis, through the shared connection of ClusterConnections. */
export class RedisLease implements ClusterLease {
  readonly key: string;
  readonly ttlMs: number;
  readonly identity: LeaseIdentity;
  private readonly counterKey: string;
  private readonly clock: () => Date;
  private readonly fencing: FencingTokenSource;

  /** `control` is the cluster state's control shard, which holds the durable fencing counter. */
  constructor(
    private readonly connections: ClusterConnections,
    control: ControlShard,
    options: RedisLeaseOptions = {},
  ) {
    const name = options.name ?? 'scheduler';
    this.key = `strata:lease:${name}`;
    this.counterKey = `strata:lease:${name}:fencing-token`;
    this.ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.identity = newLeaseIdentity(options.identity);
    this.clock = options.clock ?? (() => new Date());
    this.fencing = options.fencing ?? new ClusterFencingTokens(connections, control, name, this.clock);
  }

  async tryAcquire(): Promise<LeaseGrant | undefined> {
    const request = JSON.stringify({ ...this.identity, acquiredAt: this.clock().toISOString() });
    const value = await this.redis((client) => client.strataLeaseAcquire(this.key, this.counterKey, request, this.ttlMs));
    if (value === null) return undefined;
    const grant = this.grantOf(value);
    try {
      // Redis's counter alone may have gone back (a restart without persistence): the token must also pass the
      // durable counter and every watermark. A control shard that does not answer refuses the lease rather than
      // falling back to the watermarks alone: a holder that took a token and has not written it anywhere yet
      // (paused) would be invisible, and a second holder could get the same token, so both would pass the fence.
      const token = await this.fencing.take(Math.max(grant.holder.token, (await this.fencing.highestStored()) + 1), this.byLine());
      return await this.withToken(grant, token);
    } catch (error) {
      await this.release(grant).catch(() => false);
      throw error;
    }
  }

  async retoken(grant: LeaseGrant): Promise<LeaseGrant | undefined> {
    const token = await this.fencing.take(Math.max(grant.holder.token + 1, (await this.fencing.highestStored()) + 1), this.byLine());
    return this.withToken(grant, token);
  }

  async renew(grant: LeaseGrant): Promise<boolean> {
    return (await this.redis((client) => client.strataLeaseRenew(this.key, grant.value, this.ttlMs))) === 1;
  }

  async release(grant: LeaseGrant): Promise<boolean> {
    return (await this.redis((client) => client.strataLeaseRelease(this.key, grant.value))) === 1;
  }

  async status(): Promise<LeaseStatus> {
    const [value, ttl, counter] = await this.redis(async (client) => {
      const replies = (await client.multi().get(this.key).pttl(this.key).get(this.counterKey).exec()) ?? [];
      const failed = replies.find(([error]) => error);
      if (failed?.[0]) throw failed[0];
      return replies.map(([, reply]) => reply) as [string | null, number, string | null];
    });
    const holder = parseLeaseValue(value);
    return {
      key: this.key,
      held: value !== null,
      holder,
      expiresInMs: value !== null && ttl >= 0 ? ttl : undefined,
      lastToken: Number(counter ?? 0),
    };
  }

  private grantOf(value: string): LeaseGrant {
    const holder = parseLeaseValue(value);
    if (!holder) throw new StrataError(ErrorCode.LeaseUnavailable, `Redis ${this.connections.redisLabel()}: the lease script returned an unreadable value`);
    return { holder, value };
  }

  private byLine(): string {
    return `${this.identity.host} pid ${this.identity.pid} (${this.identity.id})`;
  }

  /** The grant with `token`, written into Redis if it differs; undefined when the lease is no longer this grant's. */
  private async withToken(grant: LeaseGrant, token: number): Promise<LeaseGrant | undefined> {
    if (token === grant.holder.token) return grant;
    const holder = { ...grant.holder, token };
    const value = JSON.stringify(holder);
    const replaced = await this.redis((client) => client.strataLeaseRetoken(this.key, this.counterKey, grant.value, value, this.ttlMs, token));
    return replaced === 1 ? { holder, value } : undefined;
  }

  private async redis<T>(work: (client: Redis & LeaseCommands) => Promise<T>): Promise<T> {
    const client = withLeaseCommands(await this.connections.redisClient());
    try {
      // A lazy client connects on its first command; one whose retries ran out needs a new start.
      if (client.status === 'end') await client.connect().catch(() => {});
      return await work(client);
    } catch (error) {
      const cause = this.connections.describeRedisError(error).message.replace(`Redis ${this.connections.redisLabel()}: `, '');
      throw new StrataError(ErrorCode.LeaseUnavailable, `Redis ${this.connections.redisLabel()}: cannot reach the scheduler lease (${cause})`, { cause: error });
    }
  }
}
