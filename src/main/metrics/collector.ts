import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ALERT_STATES, type AlertList } from '../../shared/alerts';
import { METRICS, type MetricName, type MonitorSnapshot } from '../../shared/monitor';
import type { SchedulerRun } from '../scheduler/service';

/**
 * Strata's figures as Prometheus metrics, so a PMM or Grafana a team already runs can scrape them. One registry
 * per collector (never prom-client's global one): two hosts in one process, or a test, do not share series.
 */

/** The Prometheus name of each monitor metric; a metric added to METRICS without one here is a compile error. */
export const PROMETHEUS_NAMES: Record<MetricName, string> = {
  'shard.up': 'strata_shard_up',
  'shard.latency_ms': 'strata_probe_latency_ms',
  'chart.latency_ms': 'strata_chart_query_latency_ms',
  'shard.connections_ratio': 'strata_shard_connections_ratio',
  'shard.qps': 'strata_shard_queries_per_second',
  'shard.buffer_pool_hit_ratio': 'strata_shard_buffer_pool_hit_ratio',
  'shard.row_lock_waits': 'strata_shard_row_lock_waits_per_second',
  'shard.replication_lag_s': 'strata_shard_replication_lag_seconds',
  'host.cpu_ratio': 'strata_host_cpu_ratio',
  'host.memory_ratio': 'strata_host_memory_ratio',
  'probe.error_ratio': 'strata_probe_error_ratio',
  'redis.up': 'strata_redis_up',
  'redis.latency_ms': 'strata_redis_latency_ms',
  'redis.memory_ratio': 'strata_redis_memory_ratio',
  'redis.hit_ratio': 'strata_redis_hit_ratio',
  'redis.evictions': 'strata_redis_evictions_per_second',
  'redis.clients': 'strata_redis_connected_clients',
  'queue.depth': 'strata_queue_depth',
  'watermark.lag_s': 'strata_watermark_lag_seconds',
  'aggregation.duration_s': 'strata_aggregation_duration_seconds',
  'rollup.failed_windows': 'strata_rollup_failed_windows',
  'partitions.pmax_rows': 'strata_partitions_pmax_rows',
  'partitions.ahead_days': 'strata_partitions_ahead_days',
  'backup.verified_age_s': 'strata_backup_verified_age_seconds',
};

const SCOPE_LABELS = { cluster: [], shard: ['shard'], level: ['shard', 'level'], table: ['shard', 'table'] } as const;

/** Buckets around the 300 s aggregation target, from a quiet hour's seconds to a backfill's long day. */
export const WINDOW_DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600];

/** How many windows are remembered as already counted in the histogram; older ones cannot come back in a snapshot. */
const COUNTED_WINDOWS_KEPT = 2000;

export class StrataMetrics {
  readonly registry = new Registry();
  private readonly figures = new Map<MetricName, Gauge>();
  private readonly windowDurations: Histogram;
  private readonly runs: Counter;
  private readonly alertStates: Gauge;
  private readonly alertsFiring: Gauge;
  private readonly cycleDuration: Gauge;
  private readonly cycleQueries: Gauge;
  private readonly cycleTimestamp: Gauge;
  /** Windows already counted, by shard, level and run, so a window seen in many cycles counts once. */
  private readonly countedWindows = new Set<string>();

  constructor() {
    const registers = [this.registry];
    for (const [metric, name] of Object.entries(PROMETHEUS_NAMES) as Array<[MetricName, string]>) {
      const definition = METRICS[metric];
      this.figures.set(metric, new Gauge({ name, help: `${definition.label} (${definition.unit}); absent when not measured or not configured`, labelNames: [...SCOPE_LABELS[definition.scope]], registers }));
    }
    this.windowDurations = new Histogram({
      name: 'strata_window_duration_seconds',
      help: 'aggregation time of each rollup window, per level and shard (target under 300 s)',
      labelNames: ['level', 'shard'],
      buckets: WINDOW_DURATION_BUCKETS,
      registers,
    });
    this.runs = new Counter({ name: 'strata_runs_total', help: 'scheduled job runs of this process, by job and outcome', labelNames: ['job', 'outcome'], registers });
    this.alertStates = new Gauge({ name: 'strata_alert_state', help: 'alert state per rule and scope: 1 for the current state, 0 for the others', labelNames: ['rule', 'scope', 'state', 'severity'], registers });
    this.alertsFiring = new Gauge({ name: 'strata_alerts_firing', help: 'alerts firing now', registers });
    this.cycleDuration = new Gauge({ name: 'strata_monitor_cycle_duration_seconds', help: 'wall time of the latest probe cycle', registers });
    this.cycleQueries = new Gauge({ name: 'strata_monitor_cycle_queries', help: 'queries the latest probe cycle sent to the shards and Redis', registers });
    this.cycleTimestamp = new Gauge({ name: 'strata_monitor_last_cycle_timestamp_seconds', help: 'when the latest probe cycle ran (Unix time)', registers });
  }

  /** Replaces every figure gauge with this cycle's values; a figure without a value leaves its series absent. */
  observeSnapshot(snapshot: MonitorSnapshot): void {
    const shardNames = new Map(snapshot.shards.map((shard) => [shard.index, shard.name]));
    const shardLabel = (index: number | undefined) => (index === undefined ? '' : (shardNames.get(index) ?? `shard${index}`));
    for (const gauge of this.figures.values()) gauge.reset();
    for (const figure of snapshot.figures) {
      if (figure.value === null || !Number.isFinite(figure.value)) continue;
      const labels: Record<string, string> = {};
      for (const label of SCOPE_LABELS[METRICS[figure.metric].scope]) {
        labels[label] = label === 'shard' ? shardLabel(figure.scope.shard) : (figure.scope[label] ?? '');
      }
      this.figures.get(figure.metric)?.set(labels, figure.value);
      if (figure.metric === 'aggregation.duration_s') this.countWindow(shardLabel(figure.scope.shard), figure.scope.level ?? '', figure.value, figure.link?.runId ?? figure.link?.windowStart);
    }
    this.cycleDuration.set(snapshot.durationMs / 1000);
    this.cycleQueries.set(snapshot.queries);
    this.cycleTimestamp.set(Date.parse(snapshot.at) / 1000);
  }

  private countWindow(shard: string, level: string, seconds: number, window: number | string | undefined): void {
    if (window === undefined) return;
    const key = `${shard}/${level}/${window}`;
    if (this.countedWindows.has(key)) return;
    this.countedWindows.add(key);
    if (this.countedWindows.size > COUNTED_WINDOWS_KEPT) this.countedWindows.delete(this.countedWindows.values().next().value!);
    this.windowDurations.observe({ level, shard }, seconds);
  }

  observeRun(run: SchedulerRun): void {
    this.runs.inc({ job: run.job, outcome: run.outcome });
  }

  observeAlerts(list: AlertList): void {
    this.alertStates.reset();
    for (const alert of list.alerts) {
      for (const state of ALERT_STATES) this.alertStates.set({ rule: alert.rule, scope: alert.scope.key, state, severity: alert.severity }, alert.state === state ? 1 : 0);
    }
    this.alertsFiring.set(list.firing);
  }

  /** The Prometheus text exposition of every series. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
