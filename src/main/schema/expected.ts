import { PARTITION_SCHEMES } from './partitions';

/** A column as the drift check compares it; `type` is written the way normaliseColumnType prints it. */
export interface ExpectedColumn {
  name: string;
  type: string;
  nullable: boolean;
}

/** An index by name; `PRIMARY` is the primary key. */
export interface ExpectedIndex {
  name: string;
  columns: string[];
  unique: boolean;
}

export interface ExpectedPartitioning {
  method: 'RANGE';
  expression: string;
}

/** One table of the schema as it must look after the latest migration. */
export interface ExpectedTable {
  name: string;
  columns: ExpectedColumn[];
  indexes: ExpectedIndex[];
  /** Absent for tables that must not be partitioned. */
  partitioning?: ExpectedPartitioning;
}

const column = (name: string, type: string, nullable = false): ExpectedColumn => ({ name, type, nullable });
const primaryKey = (...columns: string[]): ExpectedIndex => ({ name: 'PRIMARY', columns, unique: true });
const key = (name: string, ...columns: string[]): ExpectedIndex => ({ name, columns, unique: false });
const rangeBy = (table: keyof typeof PARTITION_SCHEMES): ExpectedPartitioning => ({ method: 'RANGE', expression: PARTITION_SCHEMES[table].expression });

const rollupColumns = (timeColumn: string, timeType: string): ExpectedColumn[] => [
  column('site_id', 'int unsigned'),
  column(timeColumn, timeType),
  column('page_views', 'bigint unsigned'),
  column('visitors', 'int unsigned'),
  column('visitors_sketch', 'mediumblob', true),
];

/**
 * The schema every shard must have once all migrations ran. The drift check compares information_schema
 * against this, so it needs no SQL parsing; the integration test proves the migrations produce exactly this.
 */
export const EXPECTED_TABLES: readonly ExpectedTable[] = [
  {
    name: 'analytics_realtime',
    columns: [
      column('id', 'bigint unsigned'),
      column('site_id', 'int unsigned'),
      column('created_at', 'timestamp'),
      column('visitor_id', 'bigint unsigned'),
      column('path', 'varchar(512)'),
      column('referrer', 'varchar(512)', true),
    ],
    indexes: [primaryKey('id', 'created_at'), key('idx_site_created', 'site_id', 'created_at')],
    partitioning: rangeBy('analytics_realtime'),
  },
  {
    name: 'analytics_hourly',
    columns: rollupColumns('hour_start', 'datetime'),
    indexes: [primaryKey('site_id', 'hour_start')],
    partitioning: rangeBy('analytics_hourly'),
  },
  {
    name: 'analytics_daily',
    columns: rollupColumns('date', 'date'),
    indexes: [primaryKey('site_id', 'date')],
    partitioning: rangeBy('analytics_daily'),
  },
  {
    name: 'analytics_monthly',
    columns: rollupColumns('month_start', 'date'),
    indexes: [primaryKey('site_id', 'month_start')],
    partitioning: rangeBy('analytics_monthly'),
  },
  {
    name: 'strata_watermarks',
    columns: [
      column('level', 'varchar(16)'),
      column('watermark', 'datetime', true),
      column('fencing_token', 'bigint unsigned'),
      column('updated_at', 'datetime(3)', true),
      column('updated_by', 'varchar(255)', true),
      column('covered_from', 'datetime', true),
    ],
    indexes: [primaryKey('level')],
  },
  {
    name: 'strata_job_runs',
    columns: [
      column('id', 'bigint unsigned'),
      column('job', 'varchar(32)'),
      column('level', 'varchar(16)', true),
      column('window_start', 'datetime', true),
      column('window_end', 'datetime', true),
      column('trigger_kind', 'varchar(16)'),
      column('host', 'varchar(255)'),
      column('started_at', 'datetime(3)'),
      column('finished_at', 'datetime(3)', true),
      column('outcome', 'varchar(16)'),
      column('rows_read', 'bigint unsigned'),
      column('rows_written', 'bigint unsigned'),
      column('error', 'text', true),
      column('run_id', 'char(36)', true),
      column('shard_index', 'int unsigned', true),
      column('duration_ms', 'bigint unsigned', true),
      column('fencing_token', 'bigint unsigned', true),
      column('rows_removed', 'bigint unsigned'),
      column('detail', 'text', true),
      column('pid', 'int unsigned', true),
    ],
    indexes: [primaryKey('id'), key('idx_job_started', 'job', 'started_at'), key('idx_level_window', 'level', 'window_start')],
  },
  {
    name: 'strata_audit_log',
    columns: [
      column('id', 'bigint unsigned'),
      column('at', 'datetime(3)'),
      column('actor', 'varchar(255)'),
      column('host', 'varchar(255)'),
      column('action', 'varchar(64)'),
      column('target', 'varchar(255)', true),
      column('detail', 'text', true),
    ],
    indexes: [primaryKey('id'), key('idx_at', 'at')],
  },
  {
    name: 'strata_schedules',
    columns: [
      column('job', 'varchar(32)'),
      column('cron', 'varchar(100)'),
      column('enabled', 'tinyint'),
      column('updated_at', 'datetime(3)', true),
      column('updated_by', 'varchar(255)', true),
    ],
    indexes: [primaryKey('job')],
  },
  {
    name: 'strata_prune_partial',
    columns: [column('table_name', 'varchar(64)'), column('window_start', 'datetime'), column('next_level_page_views', 'bigint unsigned'), column('started_at', 'datetime(3)')],
    indexes: [primaryKey('table_name', 'window_start')],
  },
  {
    name: 'strata_settings',
    columns: [column('name', 'varchar(64)'), column('value', 'text'), column('updated_at', 'datetime(3)'), column('updated_by', 'varchar(255)')],
    indexes: [primaryKey('name')],
  },
  {
    name: 'strata_backfills',
    columns: [
      column('id', 'bigint unsigned'),
      column('level', 'varchar(16)'),
      column('range_from', 'datetime'),
      column('range_to', 'datetime'),
      column('shards', 'varchar(4000)'),
      column('cascade_up', 'tinyint'),
      column('state', 'varchar(16)'),
      column('windows_total', 'int unsigned'),
      column('windows_done', 'int unsigned'),
      column('next_window_level', 'varchar(16)', true),
      column('next_window_start', 'datetime', true),
      column('rows_read', 'bigint unsigned'),
      column('rows_written', 'bigint unsigned'),
      column('estimated_ms', 'bigint unsigned'),
      column('created_by', 'varchar(255)'),
      column('host', 'varchar(255)'),
      column('pid', 'int unsigned'),
      column('created_at', 'datetime(3)'),
      column('started_at', 'datetime(3)'),
      column('updated_at', 'datetime(3)'),
      column('finished_at', 'datetime(3)', true),
      column('error', 'text', true),
    ],
    indexes: [primaryKey('id'), key('idx_state', 'state'), key('idx_created', 'created_at')],
  },
  {
    name: 'strata_backup_sets',
    columns: [
      column('id', 'varchar(64)'),
      column('state', 'varchar(16)'),
      column('created_by', 'varchar(255)'),
      column('host', 'varchar(255)'),
      column('pid', 'int unsigned'),
      column('started_at', 'datetime(3)'),
      column('finished_at', 'datetime(3)', true),
      column('updated_at', 'datetime(3)'),
      column('dest', 'varchar(4096)'),
      column('manifest_path', 'varchar(4096)'),
      column('compression', 'varchar(8)'),
      column('tables_list', 'varchar(1024)'),
      column('include_raw', 'tinyint'),
      column('bytes', 'bigint unsigned'),
      column('cancel_requested', 'tinyint'),
      column('error', 'text', true),
    ],
    indexes: [primaryKey('id'), key('idx_started', 'started_at'), key('idx_state', 'state')],
  },
  {
    name: 'strata_backup_parts',
    columns: [
      column('set_id', 'varchar(64)'),
      column('shard_index', 'int unsigned'),
      column('shard_name', 'varchar(255)'),
      column('outcome', 'varchar(16)'),
      column('file_name', 'varchar(1024)'),
      column('bytes', 'bigint unsigned'),
      column('dump_bytes', 'bigint unsigned'),
      column('sha256', 'char(64)', true),
      column('started_at', 'datetime(3)', true),
      column('finished_at', 'datetime(3)', true),
      column('duration_ms', 'bigint unsigned'),
      column('detail', 'mediumtext'),
      column('error', 'text', true),
      column('verified_at', 'datetime(3)', true),
      column('verify_outcome', 'varchar(16)', true),
      column('verify_ms', 'bigint unsigned', true),
      column('verify_error', 'text', true),
    ],
    indexes: [primaryKey('set_id', 'shard_index'), key('idx_shard_verified', 'shard_index', 'verified_at')],
  },
  {
    name: 'strata_monitor_samples',
    columns: [column('metric', 'varchar(48)'), column('scope', 'varchar(96)'), column('at', 'datetime(3)'), column('value', 'double')],
    indexes: [primaryKey('metric', 'scope', 'at'), key('idx_at', 'at')],
  },
  {
    name: 'strata_monitor_buckets',
    columns: [
      column('metric', 'varchar(48)'),
      column('scope', 'varchar(96)'),
      column('seconds', 'int unsigned'),
      column('bucket_start', 'datetime'),
      column('samples', 'int unsigned'),
      column('min_value', 'double'),
      column('max_value', 'double'),
      column('avg_value', 'double'),
      column('p50', 'double'),
      column('p95', 'double'),
      column('p99', 'double'),
    ],
    indexes: [primaryKey('metric', 'scope', 'seconds', 'bucket_start'), key('idx_bucket', 'seconds', 'bucket_start')],
  },
  {
    name: 'strata_alert_states',
    columns: [
      column('rule', 'varchar(64)'),
      column('scope', 'varchar(96)'),
      column('state', 'varchar(16)'),
      column('severity', 'varchar(16)'),
      column('value', 'double', true),
      column('threshold', 'double'),
      column('since', 'datetime(3)'),
      column('fired_at', 'datetime(3)', true),
      column('resolved_at', 'datetime(3)', true),
      column('message', 'varchar(1024)'),
      column('link', 'text', true),
      column('acked_by', 'varchar(255)', true),
      column('acked_at', 'datetime(3)', true),
      column('updated_at', 'datetime(3)'),
    ],
    indexes: [primaryKey('rule', 'scope')],
  },
  {
    name: 'strata_alert_transitions',
    columns: [
      column('id', 'bigint unsigned'),
      column('rule', 'varchar(64)'),
      column('scope', 'varchar(96)'),
      column('from_state', 'varchar(16)'),
      column('to_state', 'varchar(16)'),
      column('at', 'datetime(3)'),
      column('value', 'double', true),
      column('threshold', 'double'),
      column('severity', 'varchar(16)'),
      column('message', 'varchar(1024)'),
      column('link', 'text', true),
      column('fencing_token', 'bigint unsigned'),
    ],
    indexes: [primaryKey('id'), key('idx_at', 'at'), key('idx_rule', 'rule', 'at')],
  },
  {
    name: 'strata_alert_silences',
    columns: [
      column('id', 'bigint unsigned'),
      column('rule', 'varchar(64)'),
      column('scope', 'varchar(96)', true),
      column('until', 'datetime(3)'),
      column('comment', 'varchar(1024)'),
      column('created_by', 'varchar(255)'),
      column('created_at', 'datetime(3)'),
      column('ended_at', 'datetime(3)', true),
    ],
    indexes: [primaryKey('id'), key('idx_rule', 'rule', 'until')],
  },
  {
    name: 'strata_alert_deliveries',
    columns: [
      column('id', 'bigint unsigned'),
      column('transition_id', 'bigint unsigned'),
      column('rule', 'varchar(64)'),
      column('scope', 'varchar(96)'),
      column('kind', 'varchar(16)'),
      column('target', 'varchar(16)'),
      column('state', 'varchar(16)'),
      column('attempts', 'int unsigned'),
      column('created_at', 'datetime(3)'),
      column('next_attempt_at', 'datetime(3)', true),
      column('delivered_at', 'datetime(3)', true),
      column('error', 'text', true),
    ],
    indexes: [primaryKey('id'), { name: 'uq_transition_target', columns: ['transition_id', 'target'], unique: true }, key('idx_state', 'state', 'next_attempt_at')],
  },
  {
    name: 'strata_alert_delivery_attempts',
    columns: [
      column('delivery_id', 'bigint unsigned'),
      column('attempt', 'int unsigned'),
      column('at', 'datetime(3)'),
      column('status', 'int', true),
      column('error', 'text', true),
      column('duration_ms', 'int unsigned'),
    ],
    indexes: [primaryKey('delivery_id', 'attempt')],
  },
  {
    name: 'strata_cache_invalidations',
    columns: [
      column('id', 'bigint unsigned'),
      column('at', 'datetime(3)'),
      column('run_kind', 'varchar(16)'),
      column('run_id', 'varchar(64)', true),
      column('shards', 'varchar(1024)', true),
      column('site_id', 'int unsigned', true),
      column('range_from', 'datetime(3)', true),
      column('range_to', 'datetime(3)', true),
      column('keys_deleted', 'int unsigned', true),
      column('outcome', 'varchar(16)'),
      column('note', 'varchar(1024)', true),
      column('host', 'varchar(255)'),
    ],
    indexes: [primaryKey('id'), key('idx_at', 'at'), key('idx_run', 'run_kind', 'run_id')],
  },
];
