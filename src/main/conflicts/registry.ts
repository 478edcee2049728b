import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { ErrorCode, StrataError } from '../../shared/errors';
import type { ClusterConnections } from '../cluster/connections';
import type { ScopedLogger } from '../log';
import { activityRecordSchema, conflictingKinds, describeConflict, type ActivityRecord, type ShardActivityKind } from './rules';

/** How long a claim lives unless renewed; its holder renews it at a third of this. */
export const DEFAULT_ACTIVITY_TTL_MS = 30_000;

/** One job registered as running on one shard, until released (or until its holder stops renewing it). */
export interface ActivityClaim {
  readonly record: ActivityRecord;
  /** Ends the claim and its renewal; a second call does nothing. */
  release(): Promise<void>;
}

/**
 * Which jobs run on which shard now, shared by every Strata process through the cluster's Redis. A job claims
 * its shard before it starts; the claim is refused while a conflicting job (see rules.ts) runs there.
 */
export interface ShardActivityRegistry {
  /** Registers `kind` as running on the shard; throws ShardBusy, naming the running job, when a conflicting one runs. */
  claim(shard: number, kind: ShardActivityKind, detail?: string): Promise<ActivityClaim>;
  /** What runs now on one shard, or on every shard of the profile, by shard and start time. */
  running(shard?: number): Promise<ActivityRecord[]>;
  /** Releases every claim this process still holds; afterwards claim() refuses. */
  dispose(): Promise<void>;
}

export interface ShardActivityOptions {
  ttlMs?: number;
  /** False only in tests, to play a holder that died: its claims lapse after ttlMs. */
  renew?: boolean;
  identity?: { host?: string; pid?: number };
  clock?: () => Date;
}

// Scores are expiry times in Redis's own clock, so hosts whose clocks disagree still agree on what lapsed.
const NOW_MS = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)`;

// Dropping the lapsed, checking and adding in one script: two contenders can never both see a free shard.
const CLAIM_LUA = `${NOW_MS}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
local blocking = {}
for i = 3, #ARGV do blocking[ARGV[i]] = true end
for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local ok, record = pcall(cjson.decode, member)
  if ok and type(record) == 'table' and blocking[record['kind']] then return {0, member} end
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return {1, ARGV[1]}`;

// A claim that lapsed stays lapsed: a conflicting job may have started since, so it is never brought back.
const RENEW_LUA = `${NOW_MS}
local expires = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expires then return 0 end
if tonumber(expires) < now then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
return 1`;

const RUNNING_LUA = `${NOW_MS}
local found = {}
for _, key in ipairs(KEYS) do
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', key, now, '+inf')) do table.insert(found, member) end
end
return found`;

interface ActivityCommands {
  strataActivityClaim(key: string, member: string, ttlMs: number, ...blocking: string[]): Promise<[number, string]>;
  strataActivityRenew(key: string, member: string, ttlMs: number): Promise<number>;
  strataActivityRunning(keyCount: number, ...keys: string[]): Promise<string[]>;
}

function withActivityCommands(client: Redis): Redis & ActivityCommands {
  if (typeof (client as Partial<ActivityCommands>).strataActivityClaim !== 'function') {
    client.defineCommand('strataActivityClaim', { numberOfKeys: 1, lua: CLAIM_LUA });
    client.defineCommand('strataActivityRenew', { numberOfKeys: 1, lua: RENEW_LUA });
    client.defineCommand('strataActivityRunning', { lua: RUNNING_LUA });
  }
  return client as Redis & ActivityCommands;
}

/** The record a sorted-set member holds, or undefined for a member no Strata wrote. */
export function parseActivityMember(member: string): ActivityRecord | undefined {
  try {
    const parsed = activityRecordSchema.safeParse(JSON.parse(member));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export const activityKey = (shard: number) => `strata:activity:${shard}`;

interface HeldClaim {
  record: ActivityRecord;
  key: string;
  member: string;
  label: string;
  timer?: NodeJS.Timeout;
  renewing: boolean;
}

/** One sorted set per shard in the cluster's Redis: members are JSON records, scores their expiry (ms). */
export class RedisShardActivities implements ShardActivityRegistry {
  readonly ttlMs: number;
  private readonly renews: boolean;
  private readonly host: string;
  private readonly pid: number;
  private readonly clock: () => Date;
  private readonly held = new Map<string, HeldClaim>();
  private disposed = false;

  constructor(
    private readonly connections: ClusterConnections,
    private readonly log: ScopedLogger,
    options: ShardActivityOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_ACTIVITY_TTL_MS;
    this.renews = options.renew ?? true;
    this.host = options.identity?.host ?? hostname();
    this.pid = options.identity?.pid ?? process.pid;
    this.clock = options.clock ?? (() => new Date());
  }

  async claim(shard: number, kind: ShardActivityKind, detail?: string): Promise<ActivityClaim> {
    if (this.disposed) throw new StrataError(ErrorCode.Cancelled, 'the shard activity registry is shutting down');
    const { label } = this.connections.shard(shard);
    const record: ActivityRecord = {
      id: randomBytes(6).toString('hex'),
      kind,
      shard,
      host: this.host,
      pid: this.pid,
      startedAt: this.clock().toISOString(),
      ...(detail ? { detail } : {}),
    };
    const member = JSON.stringify(record);
    const key = activityKey(shard);
    const [claimed, reply] = await this.redis((client) => client.strataActivityClaim(key, member, this.ttlMs, ...conflictingKinds(kind)));
    if (Number(claimed) !== 1) {
      const blocking = parseActivityMember(reply);
      throw new StrataError(ErrorCode.ShardBusy, blocking ? describeConflict(blocking, label) : `${label} is held by a job Strata cannot read (${reply})`);
    }
    const held: HeldClaim = { record, key, member, label, renewing: false };
    this.held.set(record.id, held);
    if (this.renews) {
      held.timer = setInterval(() => void this.renew(held), Math.max(1, Math.floor(this.ttlMs / 3)));
      held.timer.unref();
    }
    return { record, release: () => this.release(held) };
  }

  async running(shard?: number): Promise<ActivityRecord[]> {
    const shards = shard === undefined ? this.connections.shards.map((handle) => handle.index) : [this.connections.shard(shard).index];
    if (shards.length === 0) return [];
    const keys = shards.map(activityKey);
    const members = await this.redis((client) => client.strataActivityRunning(keys.length, ...keys));
    return members
      .map(parseActivityMember)
      .filter((record): record is ActivityRecord => record !== undefined)
      .sort((a, b) => a.shard - b.shard || a.startedAt.localeCompare(b.startedAt));
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const results = await Promise.allSettled([...this.held.values()].map((held) => this.release(held)));
    for (const result of results) {
      if (result.status === 'rejected') this.log.warn('a shard activity claim could not be released; it lapses on its own', result.reason);
    }
  }

  private async release(held: HeldClaim): Promise<void> {
    if (this.held.get(held.record.id) !== held) return;
    this.held.delete(held.record.id);
    clearInterval(held.timer);
    await this.redis((client) => client.zrem(held.key, held.member));
  }

  private async renew(held: HeldClaim): Promise<void> {
    if (held.renewing) return;
    held.renewing = true;
    try {
      const renewed = await this.redis((client) => client.strataActivityRenew(held.key, held.member, this.ttlMs));
      if (renewed !== 1 && this.held.get(held.record.id) === held) {
        this.held.delete(held.record.id);
        clearInterval(held.timer);
        this.log.warn(`the ${held.record.kind} claim on ${held.label} lapsed before it was renewed; conflicting jobs may start there`);
      }
    } catch (error) {
      this.log.warn(`could not renew the ${held.record.kind} claim on ${held.label}; retrying`, error);
    } finally {
      held.renewing = false;
    }
  }

  private async redis<T>(work: (client: Redis & ActivityCommands) => Promise<T>): Promise<T> {
    const client = withActivityCommands(await this.connections.redisClient());
    try {
      // A lazy client connects on its first command; one whose retries ran out needs a new start.
      if (client.status === 'end') await client.connect().catch(() => {});
      return await work(client);
    } catch (error) {
      const described = this.connections.describeRedisError(error);
      const cause = described.message.replace(`Redis ${this.connections.redisLabel()}: `, '');
      throw new StrataError(described.code, `Redis ${this.connections.redisLabel()}: cannot reach the shard activity registry (${cause})`, { cause: error });
    }
  }
}
