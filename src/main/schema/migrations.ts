import { createHash } from 'node:crypto';
import { partitionByClause, partitionsAround } from './partitions';

/** One forward-only schema change. Applied migrations are never edited: a change is a new version. */
export interface Migration {
  version: number;
  name: string;
  /** sha256 of the statements rendered at a fixed instant, so it changes only when the SQL template does. */
  checksum: string;
  /** The statements to run, in order; `now` places the first time partitions. Each must be safe to re-run. */
  statements(now: Date): string[];
}

/** Where each shard records which migrations it has; `strata status` reads MAX(version) from it. */
export const MIGRATIONS_TABLE = 'strata_schema_migrations';

export const CREATE_MIGRATIONS_TABLE_SQL = `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
  version INT NOT NULL PRIMARY KEY,
  name VARCHAR(128) NOT NULL,
  checksum CHAR(64) NOT NULL,
  applied_at DATETIME(3) NOT NULL,
  applied_by VARCHAR(255) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`;

const TABLE_OPTIONS = 'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4';

// Migration 1 is frozen: its text is what its checksum certifies on every deployed shard.
function initialTables(now: Date): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS analytics_realtime (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  site_id INT UNSIGNED NOT NULL,
  created_at TIMESTAMP NOT NULL,
  visitor_id BIGINT UNSIGNED NOT NULL,
  path VARCHAR(512) NOT NULL,
  referrer VARCHAR(512) NULL,
  PRIMARY KEY (id, created_at),
  KEY idx_site_created (site_id, created_at)
) ${TABLE_OPTIONS}
${partitionByClause('analytics_realtime', partitionsAround('analytics_realtime', now, 48, 168))}`,
    `CREATE TABLE IF NOT EXISTS analytics_hourly (
  site_id INT UNSIGNED NOT NULL,
  hour_start DATETIME NOT NULL,
  page_views BIGINT UNSIGNED NOT NULL DEFAULT 0,
  visitors INT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, hour_start)
) ${TABLE_OPTIONS}
${partitionByClause('analytics_hourly', partitionsAround('analytics_hourly', now, 7, 7))}`,
    `CREATE TABLE IF NOT EXISTS analytics_daily (
  site_id INT UNSIGNED NOT NULL,
  date DATE NOT NULL,
  page_views BIGINT UNSIGNED NOT NULL DEFAULT 0,
  visitors INT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, date)
) ${TABLE_OPTIONS}
${partitionByClause('analytics_daily', partitionsAround('analytics_daily', now, 12, 3))}`,
    `CREATE TABLE IF NOT EXISTS analytics_monthly (
  site_id INT UNSIGNED NOT NULL,
  month_start DATE NOT NULL,
  page_views BIGINT UNSIGNED NOT NULL DEFAULT 0,
  visitors INT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (site_id, month_start)
) ${TABLE_OPTIONS}
${partitionByClause('analytics_monthly', partitionsAround('analytics_monthly', now, 5, 1))}`,
    `CREATE TABLE IF NOT EXISTS strata_watermarks (
  level VARCHAR(16) NOT NULL PRIMARY KEY,
  watermark DATETIME NULL,
  fencing_token BIGINT UNSIGNED NOT NULL DEFAULT 0,
  updated_at DATETIME(3) NULL,
  updated_by VARCHAR(255) NULL
) ${TABLE_OPTIONS}`,
    `CREATE TABLE IF NOT EXISTS strata_job_runs (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  job VARCHAR(32) NOT NULL,
  level VARCHAR(16) NULL,
  window_start DATETIME NULL,
  window_end DATETIME NULL,
  trigger_kind VARCHAR(16) NOT NULL,
  host VARCHAR(255) NOT NULL,
  started_at DATETIME(3) NOT NULL,
  finished_at DATETIME(3) NULL,
  outcome VARCHAR(16) NOT NULL,
  rows_read BIGINT UNSIGNED NOT NULL DEFAULT 0,
  rows_written BIGINT UNSIGNED NOT NULL DEFAULT 0,
  error TEXT NULL,
  KEY idx_job_started (job, started_at)
) ${TABLE_OPTIONS}`,
    `CREATE TABLE IF NOT EXISTS strata_audit_log (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at DATETIME(3) NOT NULL,
  actor VARCHAR(255) NOT NULL,
  host VARCHAR(255) NOT NULL,
  action VARCHAR(64) NOT NULL,
  target VARCHAR(255) NULL,
  detail TEXT NULL,
  KEY idx_at (at)
) ${TABLE_OPTIONS}`,
  ];
}

/**
 * Runs `ddl` only when `missingCheck` (a SELECT COUNT(*) over information_schema) finds nothing, through a prepared
 * statement: MySQL 8 has no ADD COLUMN IF NOT EXISTS, and every migration statement must be safe to re-run.
 */
function whenMissing(missingCheck: string, ddl: string): string[] {
  return [
    `SET @strata_ddl = IF((${missingCheck}) = 0, '${ddl.replace(/'/g, "''")}', 'DO 0')`,
    'PREPARE strata_ddl FROM @strata_ddl',
    'EXECUTE strata_ddl',
    'DEALLOCATE PREPARE strata_ddl',
  ];
}

function addColumnIfMissing(table: string, column: string, definition: string): string[] {
  return whenMissing(
    `SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table}' AND COLUMN_NAME = '${column}'`,
    `ALTER TABLE ${table} ADD COLUMN ${column} ${definition}`,
  );
}

function addKeyIfMissing(table: string, key: string, columns: string): string[] {
  return whenMissing(
    `SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table}' AND INDEX_NAME = '${key}'`,
    `ALTER TABLE ${table} ADD KEY ${key} (${columns})`,
  );
}

/**
 * Migration 2, for rollups: a HyperLogLog visitor sketch on every rollup row, where each watermark's coverage
 * began, and what a run needs to be grouped, timed and found by window.
 */
function rollupEngine(): string[] {
  return [
    ...addColumnIfMissing('analytics_hourly', 'visitors_sketch', 'MEDIUMBLOB NULL'),
    ...addColumnIfMissing('analytics_daily', 'visitors_sketch', 'MEDIUMBLOB NULL'),
    ...addColumnIfMissing('analytics_monthly', 'visitors_sketch', 'MEDIUMBLOB NULL'),
    ...addColumnIfMissing('strata_watermarks', 'covered_from', 'DATETIME NULL'),
    ...addColumnIfMissing('strata_job_runs', 'run_id', 'CHAR(36) NULL'),
    ...addColumnIfMissing('strata_job_runs', 'shard_index', 'INT UNSIGNED NULL'),
    ...addColumnIfMissing('strata_job_runs', 'duration_ms', 'BIGINT UNSIGNED NULL'),
    ...addColumnIfMissing('strata_job_runs', 'fencing_token', 'BIGINT UNSIGNED NULL'),
    ...addKeyIfMissing('strata_job_runs', 'idx_level_window', 'level, window_start'),
  ];
}

// Migration 3: the scheduler's editable schedules. Only the control shard (shard 0) reads it; every shard gets
// the table so all shards keep one schema. A job without a row follows its built-in default.
function scheduleTables(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS strata_schedules (
  job VARCHAR(32) NOT NULL PRIMARY KEY,
  cron VARCHAR(100) NOT NULL,
  enabled TINYINT(1) NOT NULL DEFAULT 1,
  updated_at DATETIME(3) NULL,
  updated_by VARCHAR(255) NULL
) ${TABLE_OPTIONS}`,
  ];
}

// Migration 4: backfills, so one that was interrupted can be resumed from its next window and two that overlap
// are refused. Only the control shard (shard 0) uses it; every shard gets it so all shards keep one schema.
function backfillTable(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS strata_backfills (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  level VARCHAR(16) NOT NULL,
  range_from DATETIME NOT NULL,
  range_to DATETIME NOT NULL,
  shards VARCHAR(4000) NOT NULL,
  cascade_up TINYINT(1) NOT NULL DEFAULT 0,
  state VARCHAR(16) NOT NULL,
  windows_total INT UNSIGNED NOT NULL,
  windows_done INT UNSIGNED NOT NULL DEFAULT 0,
  next_window_level VARCHAR(16) NULL,
  next_window_start DATETIME NULL,
  rows_read BIGINT UNSIGNED NOT NULL DEFAULT 0,
  rows_written BIGINT UNSIGNED NOT NULL DEFAULT 0,
  estimated_ms BIGINT UNSIGNED NOT NULL DEFAULT 0,
  created_by VARCHAR(255) NOT NULL,
  host VARCHAR(255) NOT NULL,
  pid INT UNSIGNED NOT NULL,
  created_at DATETIME(3) NOT NULL,
  started_at DATETIME(3) NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  finished_at DATETIME(3) NULL,
  error TEXT NULL,
  KEY idx_state (state),
  KEY idx_created (created_at)
) ${TABLE_OPTIONS}`,
  ];
}

// Migration 5: retention. Settings (the retention policy, keep-ahead) are stored on the control shard as JSON so
// every console and agent reads one policy; prune and maintenance runs record what they removed.
function retentionTables(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS strata_settings (
  name VARCHAR(64) NOT NULL PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at DATETIME(3) NOT NULL,
  updated_by VARCHAR(255) NOT NULL
) ${TABLE_OPTIONS}`,
    // A window whose rows a prune began deleting: its source no longer adds up to the next level, and this row
    // says it was checked, with the next level's total at the time, so the next prune may finish it.
    `CREATE TABLE IF NOT EXISTS strata_prune_partial (
  table_name VARCHAR(64) NOT NULL,
  window_start DATETIME NOT NULL,
  next_level_page_views BIGINT UNSIGNED NOT NULL,
  started_at DATETIME(3) NOT NULL,
  PRIMARY KEY (table_name, window_start)
) ${TABLE_OPTIONS}`,
    ...addColumnIfMissing('strata_job_runs', 'rows_removed', 'BIGINT UNSIGNED NOT NULL DEFAULT 0'),
    ...addColumnIfMissing('strata_job_runs', 'detail', 'TEXT NULL'),
  ];
}

// Migration 6: rollups that survive faults. A run records the pid of the process that ran it, so the history
// tells two processes of one host apart (two agents, a process killed and restarted).
function faultTolerance(): string[] {
  return [...addColumnIfMissing('strata_job_runs', 'pid', 'INT UNSIGNED NULL')];
}

// Migration 7: the backup catalog. A set and one part per shard, so every console and agent sees the same list
// and a cancel reaches the process running it; the control shard's tables are the ones used. The verify columns
// are filled when a part is restored into a scratch database and compared with its manifest.
function backupCatalog(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS strata_backup_sets (
  id VARCHAR(64) NOT NULL PRIMARY KEY,
  state VARCHAR(16) NOT NULL,
  created_by VARCHAR(255) NOT NULL,
  host VARCHAR(255) NOT NULL,
  pid INT UNSIGNED NOT NULL,
  started_at DATETIME(3) NOT NULL,
  finished_at DATETIME(3) NULL,
  updated_at DATETIME(3) NOT NULL,
  dest VARCHAR(4096) NOT NULL,
  manifest_path VARCHAR(4096) NOT NULL,
  compression VARCHAR(8) NOT NULL,
  tables_list VARCHAR(1024) NOT NULL,
  include_raw TINYINT(1) NOT NULL DEFAULT 0,
  bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
  cancel_requested TINYINT(1) NOT NULL DEFAULT 0,
  error TEXT NULL,
  KEY idx_started (started_at),
  KEY idx_state (state)
) ${TABLE_OPTIONS}`,
    `CREATE TABLE IF NOT EXISTS strata_backup_parts (
  set_id VARCHAR(64) NOT NULL,
  shard_index INT UNSIGNED NOT NULL,
  shard_name VARCHAR(255) NOT NULL,
  outcome VARCHAR(16) NOT NULL,
  file_name VARCHAR(1024) NOT NULL,
  bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
  dump_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
  sha256 CHAR(64) NULL,
  started_at DATETIME(3) NULL,
  finished_at DATETIME(3) NULL,
  duration_ms BIGINT UNSIGNED NOT NULL DEFAULT 0,
  detail MEDIUMTEXT NOT NULL,
  error TEXT NULL,
  verified_at DATETIME(3) NULL,
  verify_outcome VARCHAR(16) NULL,
  verify_ms BIGINT UNSIGNED NULL,
  verify_error TEXT NULL,
  PRIMARY KEY (set_id, shard_index),
  KEY idx_shard_verified (shard_index, verified_at)
) ${TABLE_OPTIONS}`,
  ];
}

// Migration 8: monitoring and alerts. Samples of each probe cycle (raw, then downsampled buckets with their own
// percentiles) so every console sees one history; alert states per rule and scope, their transitions, silences,
// and an outbox of webhook deliveries with every attempt, so a webhook that is down never loses an alert.
function monitoringTables(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS strata_monitor_samples (
  metric VARCHAR(48) NOT NULL,
  scope VARCHAR(96) NOT NULL,
  at DATETIME(3) NOT NULL,
  value DOUBLE NOT NULL,
  PRIMARY KEY (metric, scope, at),
  KEY idx_at (at)
) ${TABLE_OPTIONS}`,
    `CREATE TABLE IF NOT EXISTS strata_monitor_buckets (
  metric VARCHAR(48) NOT NULL,
  scope VARCHAR(96) NOT NULL,
  seconds INT UNSIGNED NOT NULL,
  bucket_start DATETIME NOT NULL,
  samples INT UNSIGNED NOT NULL,
  min_value DOUBLE NOT NULL,
  max_value DOUBLE NOT NULL,
  avg_value DOUBLE NOT NULL,
  p50 DOUBLE NOT NULL,
  p95 DOUBLE NOT NULL,
  p99 DOUBLE NOT NULL,
  PRIMARY KEY (metric, scope, seconds, bucket_start),
  KEY idx_bucket (seconds, bucket_start)
) ${TABLE_OPTIONS}`,
    `CREATE TABLE IF NOT EXISTS strata_alert_states (
  rule VARCHAR(64) NOT NULL,
  scope VARCHAR(96) NOT NULL,
  state VARCHAR(16) NOT NULL,
  severity VARCHAR(16) NOT NULL,
  value DOUBLE NULL,
  threshold DOUBLE NOT NULL,
  since DATETIME(3) NOT NULL,
  fired_at DATETIME(3) NULL,
  resolved_at DATETIME(3) NULL,
  message VARCHAR(1024) NOT NULL,
  link TEXT NULL,
  acked_by VARCHAR(255) NULL,
  acked_at DATETIME(3) NULL,
  updated_at DATETIME(3) NOT NULL,
  PRIMARY KEY (rule, scope)
) ${TABLE_OPTIONS}`,
    `CREATE TABLE IF NOT EXISTS strata_alert_transitions (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  rule VARCHAR(64) NOT NULL,
  scope VARCHAR(96) NOT NULL,
  from_state VARCHAR(16) NOT NULL,
  to_state VARCHAR(16) NOT NULL,
  at DATETIME(3) NOT NULL,
  value DOUBLE NULL,
  threshold DOUBLE NOT NULL,
  severity VARCHAR(16) NOT NULL,
  message VARCHAR(1024) NOT NULL,
  link TEXT NULL,
  fencing_token BIGINT UNSIGNED NOT NULL DEFAULT 0,
  KEY idx_at (at),
  KEY idx_rule (rule, at)
) ${TABLE_OPTIONS}`,
    `CREATE TABLE IF NOT EXISTS strata_alert_silences (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  rule VARCHAR(64) NOT NULL,
  scope VARCHAR(96) NULL,
  until DATETIME(3) NOT NULL,
  comment VARCHAR(1024) NOT NULL,
  created_by VARCHAR(255) NOT NULL,
  created_at DATETIME(3) NOT NULL,
  ended_at DATETIME(3) NULL,
  KEY idx_rule (rule, until)
) ${TABLE_OPTIONS}`,
    `CREATE TABLE IF NOT EXISTS strata_alert_deliveries (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  transition_id BIGINT UNSIGNED NOT NULL,
  rule VARCHAR(64) NOT NULL,
  scope VARCHAR(96) NOT NULL,
  kind VARCHAR(16) NOT NULL,
  target VARCHAR(16) NOT NULL,
  state VARCHAR(16) NOT NULL,
  attempts INT UNSIGNED NOT NULL DEFAULT 0,
  created_at DATETIME(3) NOT NULL,
  next_attempt_at DATETIME(3) NULL,
  delivered_at DATETIME(3) NULL,
  error TEXT NULL,
  UNIQUE KEY uq_transition_target (transition_id, target),
  KEY idx_state (state, next_attempt_at)
) ${TABLE_OPTIONS}`,
    `CREATE TABLE IF NOT EXISTS strata_alert_delivery_attempts (
  delivery_id BIGINT UNSIGNED NOT NULL,
  attempt INT UNSIGNED NOT NULL,
  at DATETIME(3) NOT NULL,
  status INT NULL,
  error TEXT NULL,
  duration_ms INT UNSIGNED NOT NULL,
  PRIMARY KEY (delivery_id, attempt)
) ${TABLE_OPTIONS}`,
  ];
}

/** Migration 9: the application cache keys Strata invalidated, after which run (read by `strata cache stats` and the Cache page). */
function cacheInvalidations(): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS strata_cache_invalidations (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  at DATETIME(3) NOT NULL,
  run_kind VARCHAR(16) NOT NULL,
  run_id VARCHAR(64) NULL,
  shards VARCHAR(1024) NULL,
  site_id INT UNSIGNED NULL,
  range_from DATETIME(3) NULL,
  range_to DATETIME(3) NULL,
  keys_deleted INT UNSIGNED NULL,
  outcome VARCHAR(16) NOT NULL,
  note VARCHAR(1024) NULL,
  host VARCHAR(255) NOT NULL,
  KEY idx_at (at),
  KEY idx_run (run_kind, run_id)
) ${TABLE_OPTIONS}`,
  ];
}

/** Any fixed instant works: the rendered SQL depends on `now` only through partition names and bounds. */
const CHECKSUM_REFERENCE_TIME = new Date(Date.UTC(2000, 0, 1));

export function templateChecksum(statements: (now: Date) => string[]): string {
  return createHash('sha256').update(statements(CHECKSUM_REFERENCE_TIME).join(';\n')).digest('hex');
}

function defineMigration(version: number, name: string, statements: (now: Date) => string[]): Migration {
  return { version, name, checksum: templateChecksum(statements), statements };
}

/** Every migration this build knows, in version order. Append only. */
export const MIGRATIONS: readonly Migration[] = [
  defineMigration(1, 'initial tables', initialTables),
  defineMigration(2, 'rollup engine', rollupEngine),
  defineMigration(3, 'scheduler schedules', scheduleTables),
  defineMigration(4, 'backfills', backfillTable),
  defineMigration(5, 'retention', retentionTables),
  defineMigration(6, 'fault tolerance', faultTolerance),
  defineMigration(7, 'backup catalog', backupCatalog),
  defineMigration(8, 'monitoring and alerts', monitoringTables),
  defineMigration(9, 'cache invalidations', cacheInvalidations),
];

export const LATEST_VERSION = MIGRATIONS.reduce((latest, migration) => Math.max(latest, migration.version), 0);
