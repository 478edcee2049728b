import { performance } from 'node:perf_hooks';
import {
  makeScope,
  monitorSeriesRequestSchema,
  type Figure,
  type FigureLink,
  type MetricName,
  type MonitorSeriesReport,
  type MonitorSeriesRequest,
  type MonitorShard,
  type MonitorSnapshot,
} from '../../shared/monitor';
import { ErrorCode, StrataError } from '../../shared/errors';
import { DEFAULT_QUEUE_KEYS } from '../../shared/profile';
import { ROLLUP_LEVELS } from '../../shared/rollup';
import { withRedisDeadline, type ClusterConnections } from '../cluster/connections';
import { readPartitionMetadata } from '../cluster/partition-metadata';
import type { Disposable } from '../lifecycle/disposable';
import { Emitter } from '../lifecycle/emitter';
import { asProblem } from '../lifecycle/problem';
import { WorkTracker } from '../lifecycle/work-tracker';
import type { ScopedLogger } from '../log';
import { readWatermarks } from '../rollup/watermark';
import { CONTROL_SHARD, type ClusterState } from '../state';
import { NodeExporterScraper, type FetchText } from './node-exporter';
import {
  buildSeries,
  catchAllPartition,
  chartQueries,
  DOWNSAMPLE_EVERY_MS,
  failedWindowCounts,
  latestRunOf,
  latestRunsSql,
  partitionFigures,
  PARTITIONED_TABLES,
  PING_SQL,
  pmaxCountSql,
  PROBE_DEADLINE_MS,
  probeSites,
  RANGE_MS,
  RAW_RETENTION_MS,
  recentRunsSql,
  redisInfoFigures,
  REDIS_MIN_LOOKUPS,
  REPLICA_STATUS_SQL,
  replicationLag,
  runLink,
  serverStatusFigures,
  SITE_CACHE_MS,
  SITES_SQL,
  STATUS_SQL,
  statusMap,
  toRunRow,
  VARIABLES_SQL,
  verifiedBackupAge,
  VERIFIED_BACKUP_SQL,
  parseRedisInfo,
  queueCountCommand,
  BUCKET_SECONDS,
  type RedisReading,
  type RunRow,
  type StatusReading,
} from './planner';
import { MonitorSampleStore } from './samples';

export interface MonitorServiceOptions {
  now?: () => Date;
  /** Milliseconds between probe cycles once started; default the profile's probeIntervalSeconds, else 30 s. */
  intervalMs?: number;
  /** Whether this process writes the cycle's samples to the cluster (it holds the scheduler lease). */
  isRecorder?: () => boolean;
  /** Fetches a node exporter's text; tests may point it elsewhere. Default: global fetch with a 5 s deadline. */
  fetchText?: (url: string, signal: AbortSignal) => Promise<string>;
}

/** Probe cycles over every shard, Redis and the queue; samples on the control shard; series with percentiles. */
export interface MonitorService extends Disposable {
  /** One probe cycle now; its samples are recorded when `record` is true (default: isRecorder()). */
  runCycle(options?: { record?: boolean }): Promise<MonitorSnapshot>;
  /** The latest cycle of this process, or a cycle measured now when there is none yet. */
  snapshot(): Promise<MonitorSnapshot>;
  /** Recorded samples over the range, per metric and scope, with p50/p95/p99. */
  series(request: MonitorSeriesRequest): Promise<MonitorSeriesReport>;
  onCycle(listener: (snapshot: MonitorSnapshot) => void): () => void;
  /** Runs a cycle every interval until stop() or dispose(). */
  start(): void;
  stop(): Promise<void>;
}

const DEFAULT_INTERVAL_MS = 30_000;

/** Queries sent by one cycle and how many of them failed: the error rate of the probes. */
class ProbeCounter {
  sent = 0;
  failed = 0;
}

type Row = Record<string, unknown>;

/** What one shard's probes found; the run rows feed the cluster-wide failed-window count. */
interface ShardMeasurement {
  shard: MonitorShard;
  figures: Figure[];
  recentRuns?: RunRow[];
  latestRuns?: RunRow[];
  /** Epoch seconds of each level's watermark, as read in this cycle. */
  watermarks?: Map<string, number>;
}

const SHARD_METRICS: MetricName[] = [
  'shard.latency_ms',
  'chart.latency_ms',
  'shard.connections_ratio',
  'shard.qps',
  'shard.buffer_pool_hit_ratio',
  'shard.row_lock_waits',
  'host.cpu_ratio',
  'host.memory_ratio',
];
const LEVEL_METRICS: MetricName[] = ['watermark.lag_s', 'aggregation.duration_s', 'rollup.failed_windows'];
const TABLE_METRICS: MetricName[] = ['partitions.pmax_rows', 'partitions.ahead_days'];
const REDIS_METRICS: MetricName[] = ['redis.latency_ms', 'redis.memory_ratio', 'redis.hit_ratio', 'redis.evictions', 'redis.clients', 'queue.depth'];


function errorNote(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] ?? 'failed' : String(error);
}

/**
 * Measures the cluster every interval: each shard (in parallel, each probe bounded by PROBE_DEADLINE_MS), Redis and
 * its queue, and what Strata records (watermarks, runs, partitions, backups). A shard or Redis that does not answer
 * is a figure (up = 0, the rest null with a note), never an exception. The lease holder also records the figures.
 */
export class ClusterMonitorService implements MonitorService {
  private readonly now: () => Date;
  private readonly work = new WorkTracker('monitor');
  private readonly cycles: Emitter<MonitorSnapshot>;
  private readonly store: MonitorSampleStore;
  private readonly scraper: NodeExporterScraper;
  private readonly previousStatus = new Map<number, StatusReading>();
  private readonly siteCache = new Map<number, { sites: number[]; at: number }>();
  /** Which spelling of SHOW … STATUS for replication each shard understands, once known. */
  private readonly replicaSql = new Map<number, string>();
  private previousRedis: RedisReading | undefined;
  private latest: MonitorSnapshot | undefined;
  /** Cycles run one after another, so rates between cycles always compare consecutive readings. */
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastDownsampleAt = -Infinity;

  constructor(
    readonly connections: ClusterConnections,
    readonly state: ClusterState,
    readonly log: ScopedLogger,
    readonly options: MonitorServiceOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.cycles = new Emitter(log, 'monitor cycle');
    this.store = new MonitorSampleStore(state.control);
    this.scraper = new NodeExporterScraper(options.fetchText as FetchText | undefined);
  }

  /** Milliseconds between cycles of start(). */
  get intervalMs(): number {
    const seconds = this.connections.profile.monitor?.probeIntervalSeconds;
    return this.options.intervalMs ?? (seconds ? seconds * 1000 : DEFAULT_INTERVAL_MS);
  }

  runCycle(options: { record?: boolean } = {}): Promise<MonitorSnapshot> {
    return this.work.track(() => this.enqueue(() => this.cycle(options.record ?? this.options.isRecorder?.() ?? false)));
  }

  async snapshot(): Promise<MonitorSnapshot> {
    return this.latest ?? this.runCycle();
  }

  async series(request: MonitorSeriesRequest): Promise<MonitorSeriesReport> {
    const parsed = monitorSeriesRequestSchema.safeParse(request);
    if (!parsed.success) throw new StrataError(ErrorCode.MonitorInvalid, `invalid series request: ${parsed.error.issues[0]?.message ?? 'unknown field'}`);
    const { range, metrics } = parsed.data;
    const to = this.now();
    const from = new Date(to.getTime() - RANGE_MS[range]);
    // A sample taken at exactly `to` (a cycle on the same clock) belongs to the window.
    const end = new Date(to.getTime() + 1000);
    const rawCoversWindow = RANGE_MS[range] <= RAW_RETENTION_MS;
    if (range === '1h') {
      const raw = await this.store.readRaw(from, end, metrics);
      return { range, from: from.toISOString(), to: to.toISOString(), series: buildSeries({ range, raw, buckets: [], rawCoversWindow, intervalSeconds: this.intervalMs / 1000 }) };
    }
    const buckets = await this.store.readBuckets(from, end, metrics);
    // Points come from the buckets and the tail not folded yet; a window the raw samples still cover gets exact
    // percentiles ranked on the server instead of its quarter of a million samples fetched here.
    const lastBucketEnd = buckets.reduce((latest, bucket) => Math.max(latest, bucket.start + BUCKET_SECONDS * 1000), from.getTime());
    const [raw, exactPercentiles] = await Promise.all([
      this.store.readRaw(new Date(lastBucketEnd), end, metrics),
      rawCoversWindow ? this.store.rawPercentiles(from, end, metrics) : undefined,
    ]);
    return {
      range,
      from: from.toISOString(),
      to: to.toISOString(),
      series: buildSeries({ range, raw, buckets, rawCoversWindow: false, intervalSeconds: this.intervalMs / 1000, ...(exactPercentiles ? { exactPercentiles } : {}) }),
    };
  }

  onCycle(listener: (snapshot: MonitorSnapshot) => void): () => void {
    return this.cycles.on(listener);
  }

  start(): void {
    if (this.timer || this.work.stopping) return;
    const tick = () => {
      // A cycle slower than the interval is not stacked up behind: the next tick after it finishes runs.
      if (this.pending > 0) return;
      this.runCycle().catch((error) => {
        if (!this.work.stopping) this.log.warn('a probe cycle failed', error);
      });
    };
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
    // The first figures (and the first /metrics scrape) should not wait a whole interval.
    tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.queue.catch(() => {});
  }

  async dispose(): Promise<void> {
    await this.stop();
    await this.work.dispose();
    this.cycles.clear();
  }

  private enqueue<T>(work: () => Promise<T>): Promise<T> {
    this.pending += 1;
    const result = this.queue.then(work, work).finally(() => (this.pending -= 1));
    this.queue = result.catch(() => {});
    return result;
  }

  private async cycle(record: boolean): Promise<MonitorSnapshot> {
    const at = this.now();
    // Elapsed work time, not the injected clock: a test's fixed clock would say every cycle took 0 ms.
    const started = performance.now();
    const counter = new ProbeCounter();
    const [measurements, redis] = await Promise.all([
      Promise.all(this.connections.shards.map((handle) => this.measureShard(handle.index, at, counter))),
      this.measureRedis(at, counter),
    ]);
    const figures: Figure[] = [...measurements.flatMap((measurement) => measurement.figures), ...this.aggregationFigures(measurements), ...redis.figures];
    figures.push(await this.backupFigure(at, measurements, counter));
    figures.push({ metric: 'probe.error_ratio', scope: makeScope({}), value: counter.sent > 0 ? counter.failed / counter.sent : null });
    let recorded = false;
    if (record) recorded = await this.record(at, figures);
    const snapshot: MonitorSnapshot = {
      at: at.toISOString(),
      durationMs: Math.max(0, performance.now() - started),
      queries: counter.sent,
      shards: measurements.map((measurement) => measurement.shard),
      redisReachable: redis.reachable,
      figures,
      recorded,
    };
    this.latest = snapshot;
    this.cycles.emit(snapshot);
    return snapshot;
  }

  private async record(at: Date, figures: Figure[]): Promise<boolean> {
    try {
      await this.store.write(at, figures);
    } catch (error) {
      this.log.warn('could not record the probe cycle on the control shard', error);
      return false;
    }
    if (at.getTime() - this.lastDownsampleAt >= DOWNSAMPLE_EVERY_MS) {
      this.lastDownsampleAt = at.getTime();
      try {
        await this.store.downsample(at);
      } catch (error) {
        this.log.warn('could not downsample the monitoring samples', error);
      }
    }
    return true;
  }

  /** One statement of a probe, counted, bounded by the probe deadline. */
  private async probe<T = Row[]>(shard: number, counter: ProbeCounter, sql: string, params: unknown[] = [], countFailure = true): Promise<T> {
    counter.sent += 1;
    try {
      return await this.connections.query<T>(shard, sql, params, { timeoutMs: PROBE_DEADLINE_MS });
    } catch (error) {
      if (countFailure) counter.failed += 1;
      throw error;
    }
  }

  private async measureShard(index: number, at: Date, counter: ProbeCounter): Promise<ShardMeasurement> {
    const handle = this.connections.shard(index);
    const url = handle.config.nodeExporterUrl;
    const shardInfo: MonitorShard = { index, name: handle.label, reachable: true, hostMetricsConfigured: Boolean(url) };
    const scope = makeScope({ shard: index });
    const shardLink: FigureLink = { kind: 'shard', shard: index, text: handle.label };
    const pingStarted = performance.now();
    try {
      await this.probe(index, counter, PING_SQL);
    } catch (error) {
      return { shard: { ...shardInfo, reachable: false, problem: asProblem(error) }, figures: this.unreachableShardFigures(index, shardLink) };
    }
    const latencyMs = performance.now() - pingStarted;
    const figures: Figure[] = [
      { metric: 'shard.up', scope, value: 1, link: shardLink },
      { metric: 'shard.latency_ms', scope, value: latencyMs, link: shardLink },
    ];
    const host = this.scraper.read(index, url);
    figures.push(...(await this.chartFigures(index, at, counter, shardLink)));
    figures.push(...(await this.statusFigures(index, at, counter, shardLink)));
    const watermarks = await this.watermarkFigures(index, at, counter);
    figures.push(...watermarks.figures);
    figures.push(...(await this.partitionFiguresOf(index, at, counter)));
    const runs = await this.readRuns(index, at, counter);
    const hostFigures = await host;
    figures.push(
      { metric: 'host.cpu_ratio', scope, value: hostFigures.cpu.value, ...(hostFigures.cpu.note ? { note: hostFigures.cpu.note } : {}), link: shardLink },
      { metric: 'host.memory_ratio', scope, value: hostFigures.memory.value, ...(hostFigures.memory.note ? { note: hostFigures.memory.note } : {}), link: shardLink },
    );
    return { shard: shardInfo, figures, ...runs, watermarks: watermarks.epochSeconds };
  }

  private unreachableShardFigures(index: number, link: FigureLink): Figure[] {
    const note = 'unreachable';
    return [
      { metric: 'shard.up', scope: makeScope({ shard: index }), value: 0, link },
      ...SHARD_METRICS.map((metric): Figure => ({ metric, scope: makeScope({ shard: index }), value: null, note, link })),
      ...ROLLUP_LEVELS.flatMap((level) => LEVEL_METRICS.map((metric): Figure => ({ metric, scope: makeScope({ shard: index, level }), value: null, note, link }))),
      ...PARTITIONED_TABLES.flatMap((table) => TABLE_METRICS.map((metric): Figure => ({ metric, scope: makeScope({ shard: index, table }), value: null, note, link }))),
    ];
  }

  private async chartFigures(index: number, at: Date, counter: ProbeCounter, link: FigureLink): Promise<Figure[]> {
    const scope = makeScope({ shard: index });
    try {
      const cached = this.siteCache.get(index);
      let sites = cached && at.getTime() - cached.at < SITE_CACHE_MS ? cached.sites : undefined;
      if (!sites) {
        const rows = await this.probe(index, counter, SITES_SQL);
        sites = rows.map((row) => Number(row.site_id));
        this.siteCache.set(index, { sites, at: at.getTime() });
      }
      const probed = probeSites(sites, Math.random());
      if (probed.length === 0) return [{ metric: 'chart.latency_ms', scope, value: null, note: 'no site has daily data yet', link }];
      let slowest = { ms: -1, text: '' };
      for (const siteId of probed) {
        for (const chart of chartQueries(siteId, at)) {
          const started = performance.now();
          await this.probe(index, counter, chart.sql, chart.params);
          const ms = performance.now() - started;
          if (ms > slowest.ms) slowest = { ms, text: `${chart.chart} chart of site ${siteId}` };
        }
      }
      return [{ metric: 'chart.latency_ms', scope, value: slowest.ms, link: { ...link, text: `slowest: the ${slowest.text} on ${link.text}` } }];
    } catch (error) {
      return [{ metric: 'chart.latency_ms', scope, value: null, note: errorNote(error), link }];
    }
  }

  private async statusFigures(index: number, at: Date, counter: ProbeCounter, link: FigureLink): Promise<Figure[]> {
    const scope = makeScope({ shard: index });
    const figure = (metric: MetricName, value: number | null, note?: string): Figure => ({ metric, scope, value, ...(value === null && note ? { note } : {}), link });
    const figures: Figure[] = [];
    try {
      const current: StatusReading = { at: at.getTime(), status: statusMap(await this.probe(index, counter, STATUS_SQL)) };
      const variables = statusMap(await this.probe(index, counter, VARIABLES_SQL));
      const previous = this.previousStatus.get(index);
      this.previousStatus.set(index, current);
      const status = serverStatusFigures(current, previous, variables);
      const rateNote = previous ? 'no time passed since the last cycle' : 'warming up';
      figures.push(
        figure('shard.connections_ratio', status.connectionsRatio, 'no max_connections'),
        figure('shard.qps', status.qps, rateNote),
        figure('shard.buffer_pool_hit_ratio', status.bufferPoolHitRatio, 'no buffer-pool reads yet'),
        figure('shard.row_lock_waits', status.rowLockWaits, rateNote),
      );
    } catch (error) {
      const note = errorNote(error);
      figures.push(...(['shard.connections_ratio', 'shard.qps', 'shard.buffer_pool_hit_ratio', 'shard.row_lock_waits'] as const).map((metric) => figure(metric, null, note)));
    }
    const lag = await this.replicationLagOf(index, counter);
    if (lag !== undefined) figures.push(figure('shard.replication_lag_s', lag, 'replication stopped'));
    return figures;
  }

  /** Undefined when the shard is not a replica (or cannot say), so a primary gets no lag figure at all. */
  private async replicationLagOf(index: number, counter: ProbeCounter): Promise<number | null | undefined> {
    const known = this.replicaSql.get(index);
    for (const sql of known ? [known] : REPLICA_STATUS_SQL) {
      try {
        // A spelling the server does not know is not an error of the cluster.
        const rows = await this.probe(index, counter, sql, [], Boolean(known));
        this.replicaSql.set(index, sql);
        return replicationLag(rows);
      } catch {
        // try the other spelling
      }
    }
    return undefined;
  }

  private async watermarkFigures(index: number, at: Date, counter: ProbeCounter): Promise<{ figures: Figure[]; epochSeconds: Map<string, number> }> {
    const link: FigureLink = { kind: 'shard', shard: index, text: this.connections.shard(index).label };
    const epochSeconds = new Map<string, number>();
    try {
      const stored = await readWatermarks((sql, params) => this.probe(index, counter, sql, params ?? []));
      for (const row of stored) if (row.watermark) epochSeconds.set(`${index}/${row.level}`, row.watermark.getTime() / 1000);
      const figures = ROLLUP_LEVELS.map((level): Figure => {
        const watermark = stored.find((row) => row.level === level)?.watermark;
        const scope = makeScope({ shard: index, level });
        if (!watermark) return { metric: 'watermark.lag_s', scope, value: null, note: 'no watermark yet', link };
        return { metric: 'watermark.lag_s', scope, value: Math.max(0, (at.getTime() - watermark.getTime()) / 1000), link: { ...link, text: `${level} watermark ${watermark.toISOString()} on ${link.text}` } };
      });
      return { figures, epochSeconds };
    } catch (error) {
      return { figures: ROLLUP_LEVELS.map((level): Figure => ({ metric: 'watermark.lag_s', scope: makeScope({ shard: index, level }), value: null, note: errorNote(error), link })), epochSeconds };
    }
  }

  private async partitionFiguresOf(index: number, at: Date, counter: ProbeCounter): Promise<Figure[]> {
    try {
      const partitions = await readPartitionMetadata((sql, params) => this.probe(index, counter, sql, params ?? []), PARTITIONED_TABLES);
      const pmaxRows = new Map<string, number>();
      for (const table of PARTITIONED_TABLES) {
        const catchAll = catchAllPartition(partitions, table);
        if (!catchAll) continue;
        const [row] = await this.probe(index, counter, pmaxCountSql(table, catchAll));
        pmaxRows.set(table, Number(row?.n ?? 0));
      }
      return partitionFigures(index, partitions, pmaxRows, at);
    } catch (error) {
      const note = errorNote(error);
      return PARTITIONED_TABLES.flatMap((table) =>
        TABLE_METRICS.map((metric): Figure => ({ metric, scope: makeScope({ shard: index, table }), value: null, note, link: { kind: 'table', shard: index, table, text: `${table} on shard ${index}` } })),
      );
    }
  }

  private async readRuns(index: number, at: Date, counter: ProbeCounter): Promise<Pick<ShardMeasurement, 'recentRuns' | 'latestRuns'>> {
    const runs: Pick<ShardMeasurement, 'recentRuns' | 'latestRuns'> = {};
    try {
      const recent = recentRunsSql(new Date(at.getTime() - 24 * 3_600_000));
      runs.recentRuns = (await this.probe(index, counter, recent.sql, recent.params)).map(toRunRow);
      const latest = latestRunsSql(index);
      runs.latestRuns = (await this.probe(index, counter, latest.sql, latest.params)).map(toRunRow);
    } catch (error) {
      this.log.debug(`cannot read the run history of shard ${index}`, error);
    }
    return runs;
  }

  /** Aggregation time and failed windows per shard and level, from the run history every reachable shard holds. */
  private aggregationFigures(measurements: readonly ShardMeasurement[]): Figure[] {
    const byReader = new Map<number, RunRow[]>();
    for (const measurement of measurements) if (measurement.recentRuns) byReader.set(measurement.shard.index, measurement.recentRuns);
    const watermarks = new Map(measurements.flatMap((measurement) => [...(measurement.watermarks ?? new Map<string, number>())]));
    const failed = failedWindowCounts(byReader, watermarks);
    const figures: Figure[] = [];
    for (const measurement of measurements) {
      const { index, name } = measurement.shard;
      if (!measurement.shard.reachable) continue;
      const readable = measurement.recentRuns !== undefined && measurement.latestRuns !== undefined;
      const recentOfShard = [...byReader.entries()].flatMap(([reader, rows]) => rows.filter((row) => (row.shard ?? reader) === index));
      for (const level of ROLLUP_LEVELS) {
        const scope = makeScope({ shard: index, level });
        const shardLink: FigureLink = { kind: 'shard', shard: index, text: name };
        if (!readable) {
          figures.push(
            { metric: 'aggregation.duration_s', scope, value: null, note: 'run history unreadable', link: shardLink },
            { metric: 'rollup.failed_windows', scope, value: null, note: 'run history unreadable', link: shardLink },
          );
          continue;
        }
        const latest = latestRunOf(level, index, [...(measurement.latestRuns ?? []), ...recentOfShard.map((row) => ({ ...row, shard: index }))]);
        figures.push(
          latest
            ? { metric: 'aggregation.duration_s', scope, value: latest.durationMs === null ? null : latest.durationMs / 1000, ...(latest.durationMs === null ? { note: 'duration not recorded' } : {}), link: runLink(latest, index, name) }
            : { metric: 'aggregation.duration_s', scope, value: null, note: 'no run yet', link: shardLink },
          { metric: 'rollup.failed_windows', scope, value: failed.get(`${index}/${level}`) ?? 0, link: shardLink },
        );
      }
    }
    return figures;
  }

  private async backupFigure(at: Date, measurements: readonly ShardMeasurement[], counter: ProbeCounter): Promise<Figure> {
    const scope = makeScope({});
    const link: FigureLink = { kind: 'backup', text: 'newest verified backup' };
    if (!measurements.find((measurement) => measurement.shard.index === CONTROL_SHARD)?.shard.reachable) {
      return { metric: 'backup.verified_age_s', scope, value: null, note: 'control shard unreachable', link };
    }
    try {
      const rows = await this.probe(CONTROL_SHARD, counter, VERIFIED_BACKUP_SQL);
      const age = verifiedBackupAge(rows, this.connections.shards.map((handle) => handle.label), at);
      return { metric: 'backup.verified_age_s', scope, value: age.value, ...(age.note ? { note: age.note } : {}), link };
    } catch (error) {
      return { metric: 'backup.verified_age_s', scope, value: null, note: errorNote(error), link };
    }
  }

  private async measureRedis(at: Date, counter: ProbeCounter): Promise<{ reachable: boolean; figures: Figure[] }> {
    const scope = makeScope({});
    const link: FigureLink = { kind: 'redis', text: this.connections.redisLabel() };
    const queueKeys = this.connections.profile.monitor?.queueKeys ?? [...DEFAULT_QUEUE_KEYS];
    const queueLink: FigureLink = { kind: 'queue', text: queueKeys.join(', ') };
    const command = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
      counter.sent += 1;
      try {
        return await withRedisDeadline(run(), PROBE_DEADLINE_MS, `Redis ${this.connections.redisLabel()} ${what}`);
      } catch (error) {
        counter.failed += 1;
        throw error;
      }
    };
    let client;
    let latencyMs: number;
    try {
      client = await this.connections.redisClient();
      const started = performance.now();
      await command('PING', () => client!.ping());
      latencyMs = performance.now() - started;
    } catch (error) {
      const note = `unreachable: ${errorNote(this.connections.describeRedisError(error))}`;
      return {
        reachable: false,
        figures: [
          { metric: 'redis.up', scope, value: 0, link },
          ...REDIS_METRICS.map((metric): Figure => ({ metric, scope, value: null, note, link: metric === 'queue.depth' ? queueLink : link })),
        ],
      };
    }
    const figures: Figure[] = [
      { metric: 'redis.up', scope, value: 1, link },
      { metric: 'redis.latency_ms', scope, value: latencyMs, link },
    ];
    try {
      const info = parseRedisInfo(await command('INFO', () => client.info()));
      const result = redisInfoFigures(info, at.getTime(), this.previousRedis);
      const hadPrevious = this.previousRedis !== undefined;
      this.previousRedis = result.reading;
      figures.push(
        { metric: 'redis.memory_ratio', scope, value: result.memoryRatio.value, ...(result.memoryRatio.note ? { note: result.memoryRatio.note } : {}), link },
        { metric: 'redis.hit_ratio', scope, value: result.hitRatio, ...(result.hitRatio === null ? { note: `fewer than ${REDIS_MIN_LOOKUPS} key lookups since Redis started` } : {}), link },
        { metric: 'redis.evictions', scope, value: result.evictions, ...(result.evictions === null ? { note: hadPrevious ? 'no time passed since the last cycle' : 'warming up' } : {}), link },
        { metric: 'redis.clients', scope, value: result.clients, link },
      );
    } catch (error) {
      const note = errorNote(error);
      figures.push(...(['redis.memory_ratio', 'redis.hit_ratio', 'redis.evictions', 'redis.clients'] as const).map((metric): Figure => ({ metric, scope, value: null, note, link })));
    }
    try {
      const types = await command('TYPE', async () => {
        const pipeline = client.pipeline();
        for (const key of queueKeys) pipeline.type(key);
        return (await pipeline.exec()) ?? [];
      });
      let depth = 0;
      const counts = client.pipeline();
      let pending = 0;
      types.forEach(([error, type], position) => {
        const count = error ? undefined : queueCountCommand(String(type));
        if (count) {
          counts[count](queueKeys[position] as string);
          pending += 1;
        }
      });
      if (pending > 0) {
        const answers = await command('LLEN/ZCARD', async () => (await counts.exec()) ?? []);
        for (const [error, value] of answers) if (!error) depth += Number(value);
      }
      figures.push({ metric: 'queue.depth', scope, value: depth, link: queueLink });
    } catch (error) {
      figures.push({ metric: 'queue.depth', scope, value: null, note: errorNote(error), link: queueLink });
    }
    return { reachable: true, figures };
  }
}
