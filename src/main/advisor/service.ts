import { totalmem } from 'node:os';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { AdviceFinding, AdviceReport } from '../../shared/monitor';
import { ErrorCode, StrataError } from '../../shared/errors';
import type { ClusterConnections, ShardHandle } from '../cluster/connections';
import { readPartitionMetadata } from '../cluster/partition-metadata';
import { asProblem } from '../lifecycle/problem';
import type { ScopedLogger } from '../log';
import { PARTITION_SCHEMES } from '../schema/partitions';
import { adviseShard, isLoopbackHost, memTotalFromFamilies, type RamSource, type ShardIndex, type ShardSettings } from './planner';

/** Each shard's settings, indexes and partitioning against the cluster's recommended my.cnf and schema. */
export interface AdvisorService {
  advise(): Promise<AdviceReport>;
}

export interface AdvisorServiceOptions {
  now?: () => Date;
  /** Fetches a node exporter's text; default global fetch. */
  fetchText?: (url: string, signal: AbortSignal) => Promise<string>;
  /** Deadline of one node-exporter request; default 5 s. */
  nodeExporterTimeoutMs?: number;
}

/** Only the variables the rules look at, so the answer stays small on a server with a thousand of them. */
const VARIABLES = [
  'version_comment',
  'innodb_buffer_pool_size',
  'innodb_log_file_size',
  'innodb_log_files_in_group',
  'innodb_redo_log_capacity',
  'innodb_flush_log_at_trx_commit',
  'query_cache_type',
  'query_cache_size',
];
const ANALYTICS_TABLES = Object.keys(PARTITION_SCHEMES);

async function defaultFetchText(url: string, signal: AbortSignal): Promise<string> {
  const response = await fetch(url, { signal });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.text();
}

export class ClusterAdvisorService implements AdvisorService {
  private readonly now: () => Date;
  private readonly fetchText: (url: string, signal: AbortSignal) => Promise<string>;

  constructor(
    readonly connections: ClusterConnections,
    readonly log: ScopedLogger,
    readonly options: AdvisorServiceOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.fetchText = options.fetchText ?? defaultFetchText;
  }

  async advise(): Promise<AdviceReport> {
    const checkedAt = this.now().toISOString();
    const results = await Promise.all(
      this.connections.shards.map(async (handle) => {
        try {
          return { handle, findings: adviseShard(await this.readShard(handle)) };
        } catch (error) {
          this.log.warn(`the advisor could not read ${handle.label}`, error);
          return { handle, problem: asProblem(error) };
        }
      }),
    );
    const findings: AdviceFinding[] = results.flatMap((result) => result.findings ?? []);
    const unreadShards = results.flatMap((result) => (result.problem ? [{ shard: result.handle.index, shardName: result.handle.label, problem: result.problem }] : []));
    return { checkedAt, findings, unreadShards };
  }

  private async readShard(handle: ShardHandle): Promise<ShardSettings> {
    const query = <T>(sql: string, params: unknown[] = []) => this.connections.query<T>(handle.index, sql, params);
    const [[versionRow], variableRows, tableRows, statisticRows, partitions, ram] = await Promise.all([
      query<Array<{ version: string }>>('SELECT VERSION() AS version'),
      query<Array<{ Variable_name: string; Value: string }>>(`SHOW GLOBAL VARIABLES WHERE Variable_name IN (${VARIABLES.map((name) => `'${name}'`).join(', ')})`),
      query<Array<{ table_name: string }>>(
        "SELECT TABLE_NAME AS table_name FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME IN (?)",
        [ANALYTICS_TABLES],
      ),
      query<Array<{ table_name: string; index_name: string; column_name: string | null }>>(
        `SELECT TABLE_NAME AS table_name, INDEX_NAME AS index_name, COLUMN_NAME AS column_name
           FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?)
          ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX`,
        [ANALYTICS_TABLES],
      ),
      readPartitionMetadata(query, ANALYTICS_TABLES),
      this.readRam(handle),
    ]);
    const variables = Object.fromEntries(variableRows.map((row) => [row.Variable_name.toLowerCase(), String(row.Value)]));
    const indexes = new Map<string, ShardIndex>();
    for (const row of statisticRows) {
      const key = `${row.table_name}.${row.index_name}`;
      const index = indexes.get(key) ?? { table: row.table_name, name: row.index_name, columns: [] };
      if (row.column_name !== null) index.columns.push(row.column_name);
      indexes.set(key, index);
    }
    return {
      shard: handle.index,
      shardName: handle.label,
      version: versionRow?.version ?? '',
      variables,
      ramBytes: ram.bytes,
      ramSource: ram.source,
      tables: tableRows.map((row) => row.table_name),
      indexes: [...indexes.values()],
      partitions,
    };
  }

  /** The shard host's RAM: its node exporter's MemTotal, else this machine's when the shard runs here, else unknown. */
  private async readRam(handle: ShardHandle): Promise<{ bytes: number | undefined; source: RamSource }> {
    const url = handle.config.nodeExporterUrl;
    if (url) {
      try {
        const text = await this.fetchText(url, AbortSignal.timeout(this.options.nodeExporterTimeoutMs ?? 5000));
        const bytes = memTotalFromFamilies(parsePrometheusTextFormat(text));
        if (bytes === undefined) throw new StrataError(ErrorCode.NodeExporterFailed, 'it lists no node_memory_MemTotal_bytes');
        return { bytes, source: { kind: 'node-exporter', url } };
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        this.log.warn(`${handle.label}: the node exporter did not give the host's RAM`, error);
        return { bytes: undefined, source: { kind: 'unknown', reason: `the node exporter did not answer with it: ${reason}` } };
      }
    }
    if (isLoopbackHost(handle.config.host)) return { bytes: totalmem(), source: { kind: 'this-machine' } };
    return { bytes: undefined, source: { kind: 'unknown', reason: 'no node exporter is configured for this shard' } };
  }
}
