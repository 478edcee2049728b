import { TABLE_NAMES, type ClusterStatus, type RedisStatus, type ShardStatus } from '../../shared/contract';
import { ErrorCode, StrataError } from '../../shared/errors';
import { asProblem } from '../lifecycle/problem';
import type { ScopedLogger } from '../log';
import type { ClusterConnections, ShardHandle } from './connections';
import { readPartitionMetadata, tableTotals } from './partition-metadata';
import { withDeadline } from '../lifecycle/deadline';

/** Health target from the operations runbook: queries should answer within 100 ms. */
export const LATENCY_TARGET_MS = 100;
const PROBE_TIMEOUT_MS = 5000;

export interface StatusService {
  get(): Promise<ClusterStatus>;
  dispose(): Promise<void>;
}

function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  return withDeadline(work, PROBE_TIMEOUT_MS, () => new StrataError(ErrorCode.ShardUnreachable, `${what}: no answer within ${PROBE_TIMEOUT_MS / 1000} s`));
}

/** Parses the `key:value` lines of Redis INFO. */
export function parseRedisInfo(info: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of info.split(/\r?\n/)) {
    const separator = line.indexOf(':');
    if (separator > 0 && !line.startsWith('#')) fields.set(line.slice(0, separator), line.slice(separator + 1).trim());
  }
  return fields;
}

/** Probes every shard and Redis in parallel; a dead part is reported as down with its reason, never thrown. */
export class ClusterStatusService implements StatusService {
  constructor(
    private readonly connections: ClusterConnections,
    private readonly log: ScopedLogger,
  ) {}

  async get(): Promise<ClusterStatus> {
    const [shards, redis] = await Promise.all([
      Promise.all(this.connections.shards.map((handle) => this.probeShard(handle))),
      this.probeRedis(),
    ]);
    const warnings: string[] = [];
    for (const shard of shards) {
      if (shard.reachable && shard.latencyMs !== undefined && shard.latencyMs > LATENCY_TARGET_MS) {
        warnings.push(`${shard.name}: round trip ${shard.latencyMs.toFixed(1)} ms is over the ${LATENCY_TARGET_MS} ms target`);
      }
      if (shard.reachable && shard.schemaVersion === undefined) {
        warnings.push(`${shard.name}: the Strata schema is not applied (run strata schema apply)`);
      }
    }
    const healthy = shards.every((shard) => shard.reachable && shard.schemaVersion !== undefined) && redis.reachable;
    return {
      checkedAt: new Date().toISOString(),
      profileName: this.connections.profile.name ?? 'cluster',
      healthy,
      warnings,
      shards,
      redis,
    };
  }

  async dispose(): Promise<void> {}

  private async probeShard(handle: ShardHandle): Promise<ShardStatus> {
    const base: ShardStatus = {
      index: handle.index,
      name: handle.label,
      host: handle.config.host,
      port: handle.config.port,
      database: handle.config.database,
      reachable: false,
      tables: [],
    };
    try {
      return await withTimeout(this.readShard(handle, base), `${handle.label} (${handle.config.host}:${handle.config.port})`);
    } catch (error) {
      this.log.warn(`shard ${handle.label} is down`, error);
      return { ...base, problem: asProblem(error) };
    }
  }

  private async readShard(handle: ShardHandle, base: ShardStatus): Promise<ShardStatus> {
    const [versionRow] = await this.connections.query<Array<{ version: string }>>(handle.index, 'SELECT VERSION() AS version');
    const started = performance.now();
    await this.connections.query(handle.index, 'SELECT 1');
    const latencyMs = performance.now() - started;
    // Per-partition estimates: for a partitioned InnoDB table, TABLES.TABLE_ROWS counts each empty partition as one row.
    const totals = tableTotals(await readPartitionMetadata((sql, params) => this.connections.query(handle.index, sql, params), TABLE_NAMES));
    const schemaVersion = await this.readSchemaVersion(handle);
    const tls = await this.readShardTls(handle);
    const tables = TABLE_NAMES.flatMap((name) => {
      const total = totals.get(name);
      return total ? [{ table: name, ...total }] : [];
    });
    return { ...base, reachable: true, serverVersion: versionRow?.version, latencyMs, schemaVersion, ...(tls ? { tls } : {}), tables };
  }

  /** What the server says about this session's TLS: empty Ssl_cipher means a plain connection. */
  private async readShardTls(handle: ShardHandle): Promise<string | undefined> {
    const rows = await this.connections.query<Array<{ Variable_name: string; Value: string }>>(
      handle.index,
      "SHOW SESSION STATUS WHERE Variable_name IN ('Ssl_version', 'Ssl_cipher')",
    );
    const value = (name: string) => rows.find((row) => row.Variable_name === name)?.Value ?? '';
    return value('Ssl_cipher') ? `${value('Ssl_version') || 'TLS'} ${value('Ssl_cipher')}` : undefined;
  }

  private async readSchemaVersion(handle: ShardHandle): Promise<number | undefined> {
    const rows = await this.connections.query<Array<{ present: number }>>(
      handle.index,
      `SELECT COUNT(*) AS present FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'strata_schema_migrations'`,
    );
    if (!rows[0]?.present) return undefined;
    const [row] = await this.connections.query<Array<{ version: number | null }>>(handle.index, 'SELECT MAX(version) AS version FROM strata_schema_migrations');
    return row?.version ?? undefined;
  }

  private async probeRedis(): Promise<RedisStatus> {
    const url = this.connections.redisLabel();
    try {
      return await withTimeout(this.readRedis(url), `Redis ${url}`);
    } catch (error) {
      this.log.warn('redis is down', error);
      const described = this.connections.describeRedisError(error);
      return { url, reachable: false, problem: { code: described.code, message: described.message } };
    }
  }

  private async readRedis(url: string): Promise<RedisStatus> {
    const client = await this.connections.redisClient();
    if (client.status === 'wait' || client.status === 'end') await client.connect();
    const started = performance.now();
    await client.ping();
    const latencyMs = performance.now() - started;
    const info = parseRedisInfo(await client.info());
    return {
      url,
      reachable: true,
      serverVersion: info.get('redis_version'),
      latencyMs,
      usedMemoryBytes: Number(info.get('used_memory') ?? 0),
      ...(this.connections.redisTlsInUse() ? { tls: this.connections.redisTlsInUse() } : {}),
    };
  }
}
