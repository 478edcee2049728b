import type { Profile } from '../shared/profile';
import { ClusterAdvisorService, type AdvisorService } from './advisor/service';
import { ClusterAlertService, type AlertService, type AlertServiceOptions } from './alerts/service';
import { ClusterMonitorService, type MonitorService, type MonitorServiceOptions } from './monitor/service';
import { ClusterBackupService, type BackupService, type BackupServiceOptions } from './backup/service';
import { BackupCatalog } from './backup/catalog';
import { ClusterBackupRestorer } from './backup/restore-service';
import { ClusterBackupRetention } from './backup/retention-service';
import { ClusterBackupVerifier } from './backup/verify-service';
import { ClusterBackfillService, type BackfillService, type BackfillServiceOptions } from './backfill/service';
import { invalidatingBackfill, invalidatingReconcile, invalidatingRollup } from './cache/hooks';
import { ClusterCacheService, type CacheService, type CacheServiceOptions } from './cache/service';
import { ClusterConnections, type ConnectionOptions } from './cluster/connections';
import { RedisShardActivities, type ShardActivityOptions, type ShardActivityRegistry } from './conflicts/registry';
import { ClusterStatusService, type StatusService } from './cluster/status';
import { GeneratorService, type TrafficGenerator } from './generate/service';
import { ClusterPartitionService, type PartitionService, type PartitionServiceOptions } from './partitions/service';
import { ClusterTableConverter, type TableConverter, type TableConverterOptions } from './partitions/convert-service';
import { ClusterReconcileService, type ReconcileService, type ReconcileServiceOptions } from './reconcile/service';
import { ClusterRetentionService, type RetentionService, type RetentionServiceOptions } from './retention/service';
import { ClusterRollupService, type RollupService } from './rollup/service';
import { ClusterTrafficService, createChartCache, type TrafficService, type TrafficServiceOptions } from './traffic/service';
import { RedisLease, type ClusterLease, type RedisLeaseOptions } from './lease/lease';
import { backupJobHandlers, backupJobRunner, maintenanceJobHandlers, reconcileJobHandlers, rollupJobHandlers } from './scheduler/jobs';
import { ClusterScheduler, type SchedulerOptions, type SchedulerService } from './scheduler/service';
import { ClusterSchemaService, type SchemaService } from './schema/service';
import { DisposableStore } from './lifecycle/disposable';
import type { Logger } from './log';
import type { SecretResolver } from './secrets';
import { createClusterState, type ClusterState } from './state';

export interface ServiceOptions {
  profile: Profile;
  secrets: SecretResolver;
  logger: Logger;
  connection?: ConnectionOptions;
  /** Clock, lease TTL and timings of the scheduler; tests shorten them. */
  scheduler?: SchedulerOptions & { lease?: RedisLeaseOptions };
  /** Heartbeat and liveness timings of backfills; tests shorten them. */
  backfill?: BackfillServiceOptions;
  /** TTL of shard activity claims; tests shorten it. */
  activities?: ShardActivityOptions;
  /** Clock and keep-ahead of partition maintenance; tests move the clock forward. */
  partitions?: PartitionServiceOptions;
  /** Clock, keep-ahead and progress interval of table conversion. */
  conversion?: Omit<TableConverterOptions, 'activities'>;
  /** Clock of retention; tests move it forward. */
  retention?: RetentionServiceOptions;
  /** Clock of reconciliation; tests move it forward. */
  reconcile?: Omit<ReconcileServiceOptions, 'retentionSource'>;
  /** Destination, dump client and cancel timings of backups. */
  backup?: BackupServiceOptions;
  /** Clock, probe interval and node-exporter fetch of monitoring; tests run cycles by hand on a fixed clock. */
  monitor?: MonitorServiceOptions;
  /** Clock and retry delays of alert delivery; tests shorten them. */
  alerts?: AlertServiceOptions;
  /** Clock and Redis deadline of the application-cache service. */
  cache?: CacheServiceOptions;
  /** Clock and chart-cache deadline of traffic charts; tests move the clock. */
  traffic?: Omit<TrafficServiceOptions, 'retentionSource'>;
}

/** Everything a host (Electron main, CLI, agent, test web host) works with. */
export interface StrataServices {
  connections: ClusterConnections;
  /** The cluster's shared state: control shard, audit log, settings and run history (`strata audit` reads it). */
  state: ClusterState;
  status: StatusService;
  generator: TrafficGenerator;
  schema: SchemaService;
  /** Hourly, daily and monthly rollups, their watermarks and run history. */
  rollup: RollupService;
  /** The cluster-wide scheduler lease (`strata lease`). */
  lease: ClusterLease;
  /** Schedules and the scheduler; hosts that should run jobs call scheduler.start(). */
  scheduler: SchedulerService;
  /** Resumable backfills of rollup windows, with cascade and progress events. */
  backfill: BackfillService;
  /** Which jobs run on which shard now; the job-conflict rule (a backup blocks pruning and maintenance of its shard). */
  activities: ShardActivityRegistry;
  /** Lists, plans and adds future partitions of the analytics tables. */
  partitions: PartitionService;
  /** Converts an unpartitioned analytics table (plain seed DDL) into Strata's partitioned layout, shard by shard. */
  conversion: TableConverter;
  /** The retention policy, the prune dry run and the prune. */
  retention: RetentionService;
  /** Late data found and rolled up: each level compared with its source, differing windows re-rolled with cascade. */
  reconcile: ReconcileService;
  /** Backup sets of every shard: dry run, parallel dumps, the catalog, cancel; verify, restore and backup retention. */
  backup: BackupService;
  /** How many backup sets are kept (stored policy, audited) and the prune that removes the others. */
  backupRetention: ClusterBackupRetention;
  /** Probe cycles (latency, chart queries, server status, host CPU/memory, Redis, queue) and the samples kept in the cluster. */
  monitor: MonitorService;
  /** Alert rules, states, silences and webhook delivery; the lease holder evaluates and delivers. */
  alerts: AlertService;
  /** The config advisor: settings, indexes and partitioning against the recommended my.cnf. */
  advisor: AdvisorService;
  /** Traffic charts of a site, the top sites or the cluster over the right rollup table, cached in Redis under strata:chart:v1:. */
  traffic: TrafficService;
  /** The application's chart cache in Redis: figures, keys, invalidation (also after runs that rewrite history). */
  cache: CacheService;
  /** Stops services in reverse order of creation, then closes every connection. */
  dispose(): Promise<void>;
}

/** The one composition root: every host builds its services here, so they all behave alike. */
export function createServices(options: ServiceOptions): StrataServices {
  const connections = new ClusterConnections(options.profile, options.secrets, options.connection);
  const state = createClusterState(connections, options.logger);
  const status = new ClusterStatusService(connections, options.logger.scope('status'));
  const generator = new GeneratorService(connections, options.logger.scope('generate'));
  const schema = new ClusterSchemaService(connections, options.logger.scope('schema'));
  // One chart cache for both: the cache service deletes stale charts, and this process's copies of them must go too.
  const chartCache = createChartCache(connections, options.logger.scope('traffic'), options.traffic?.cache);
  const cache = new ClusterCacheService(connections, state, options.profile.cache, options.logger.scope('cache'), { strataCharts: chartCache, ...options.cache });
  // Backfills and reconciliations get the bare engine: they invalidate once per run, not once per window.
  const engine = new ClusterRollupService(connections, state, options.logger.scope('rollup'));
  const rollup = invalidatingRollup(engine, cache, connections.shardCount);
  const lease = new RedisLease(connections, state.control, options.scheduler?.lease);
  const activities = new RedisShardActivities(connections, options.logger.scope('activities'), options.activities);
  const partitions = new ClusterPartitionService(connections, state, options.logger.scope('partitions'), activities, options.partitions);
  const conversion = new ClusterTableConverter(connections, options.logger.scope('conversion'), { ...options.conversion, activities });
  const retention = new ClusterRetentionService(connections, state, options.logger.scope('retention'), activities, options.retention);
  const reconcileEngine = new ClusterReconcileService(connections, state, engine, lease, options.logger.scope('reconcile'), {
    retentionSource: async () => (await retention.policy()).policy,
    ...options.reconcile,
  });
  const reconcile = invalidatingReconcile(reconcileEngine, cache, connections.shardCount);
  const backupCatalog = new BackupCatalog(state.control);
  const backupRetention = new ClusterBackupRetention(state, backupCatalog, options.logger.scope('backup-retention'));
  const backup = new ClusterBackupService(
    connections,
    state,
    activities,
    options.secrets,
    options.logger.scope('backup'),
    {
      verifier: new ClusterBackupVerifier(connections, options.secrets, backupCatalog, options.logger.scope('backup-verify')),
      restorer: new ClusterBackupRestorer(connections, options.secrets, state, lease, activities, backupCatalog, options.logger.scope('backup-restore')),
      pruner: backupRetention,
    },
    options.backup,
  );
  const jobs = {
    ...rollupJobHandlers(rollup),
    ...reconcileJobHandlers(reconcile),
    ...maintenanceJobHandlers({ partitions, retention }),
    ...backupJobHandlers(backupJobRunner(backup)),
  };
  const scheduler = new ClusterScheduler(state, lease, jobs, options.logger.scope('scheduler'), options.scheduler);
  const backfillEngine = new ClusterBackfillService(connections, state, engine, lease, options.logger.scope('backfill'), {
    retentionSource: async () => (await retention.policy()).policy,
    ...options.backfill,
  });
  const backfill = invalidatingBackfill(backfillEngine, cache, connections.shardCount);
  const isLeaseHolder = () => scheduler.holding() !== undefined;
  const monitor = new ClusterMonitorService(connections, state, options.logger.scope('monitor'), { isRecorder: isLeaseHolder, ...options.monitor });
  const alerts = new ClusterAlertService(state, monitor, options.secrets, options.profile.alerts, options.logger.scope('alerts'), {
    leaseToken: () => scheduler.holding()?.holder.token,
    ...options.alerts,
  });
  const advisor = new ClusterAdvisorService(connections, options.logger.scope('advisor'));
  const traffic = new ClusterTrafficService(connections, options.logger.scope('traffic'), {
    retentionSource: async () => (await retention.policy()).policy,
    ...options.traffic,
    chartCache,
  });
  // Backfills go before the rollup service: cancelling them first lets their current window roll back cleanly.
  // The activity registry goes last: the jobs that hold claims stop first, then what they still hold is released.
  const disposables = new DisposableStore();
  for (const service of [activities, chartCache, status, schema, partitions, conversion, retention, generator, cache, rollup, reconcile, scheduler, backfill, backup, monitor, alerts, traffic]) disposables.add(service);
  return {
    connections,
    state,
    status,
    generator,
    schema,
    rollup,
    lease,
    scheduler,
    backfill,
    activities,
    partitions,
    conversion,
    retention,
    reconcile,
    backup,
    backupRetention,
    monitor,
    alerts,
    advisor,
    traffic,
    cache,
    async dispose() {
      try {
        await disposables.dispose();
      } finally {
        await connections.dispose();
      }
    },
  };
}
