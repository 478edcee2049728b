import { errorCodeName, type ErrorCodeName } from '../../shared/errors';

/**
 * Error codes in words: the one place the console turns a code into a heading. The message that comes with
 * the code says what exactly went wrong; stacks stay in the main process's log and never reach the page.
 * Keyed by the code's name, so a code added to src/shared/errors.ts without words here does not compile.
 */
const WORDS: Record<ErrorCodeName, string> = {
  InvalidInput: 'Invalid request',
  Internal: 'Internal error',
  ForbiddenSender: 'Not allowed',
  UnknownChannel: 'Unknown operation',
  Cancelled: 'Cancelled',
  ProfileMissing: 'No cluster profile',
  ProfileInvalid: 'Cluster profile is invalid',
  SecretUnavailable: 'Password unavailable',
  ShardUnreachable: 'Shard unreachable',
  ShardAuthFailed: 'Shard refused the login',
  ShardQueryFailed: 'Query failed on the shard',
  RedisUnreachable: 'Redis unreachable',
  UnknownShard: 'No such shard',
  ShardTimeout: 'Shard did not answer in time',
  TlsFailed: 'TLS connection refused',
  TlsFileRefused: 'TLS certificate or key file refused',
  RedisAuthFailed: 'Redis refused the login',
  BinaryMissing: 'Server program not installed',
  PortInUse: 'Port already in use',
  SandboxStartFailed: 'Sandbox did not start',
  SandboxNotFound: 'No sandbox here',
  SandboxSignalFailed: 'A sandbox server did not take the signal',
  MigrationFailed: 'Schema migration failed',
  SchemaDrift: 'Schema differs from the expected one',
  GenerateInvalid: 'Invalid traffic settings',
  GenerateTableMissing: 'Raw table missing',
  GenerateNoPartition: 'No partition for those times',
  RollupInvalid: 'Invalid rollup request',
  SketchInvalid: 'Unreadable visitor sketch',
  RollupSourceIncomplete: 'Source data not complete yet',
  BackfillInvalid: 'Invalid backfill request',
  BackfillSourcePruned: 'Source data already pruned',
  BackfillOverlap: 'Another backfill covers these windows',
  BackfillNotFound: 'No such backfill',
  BackfillNotResumable: 'Backfill cannot be resumed',
  BackfillNotRunning: 'Backfill not running',
  ReconcileInvalid: 'Invalid reconciliation request',
  ScheduleInvalidCron: 'Invalid cron expression',
  ScheduleUnknownJob: 'No such job',
  LeaseUnavailable: 'Scheduler lease unavailable',
  LeaseLost: 'Scheduler lease lost',
  FencedOut: 'Fenced out by a newer scheduler',
  PartitionTableUnmanaged: 'Table not managed by Strata',
  PartitionApplyFailed: 'Partition change failed',
  PartitionOptionsInvalid: 'Invalid partition settings',
  RetentionInvalid: 'Retention policy refused',
  ShardBusy: 'Shard busy with a conflicting job',
  PruneFailed: 'Prune failed',
  ConversionRefused: 'Table cannot be converted',
  ConversionFailed: 'Conversion failed',
  DdlLockBusy: 'Table busy: partition change skipped',
  BackupInvalid: 'Invalid backup request',
  BackupClientMissing: 'Dump client missing or too old',
  BackupNoRoom: 'Not enough room at the backup destination',
  BackupDumpFailed: 'Backup dump failed',
  BackupNotFound: 'Backup set not found',
  BackupNotRunning: 'Backup is not running',
  BackupNotAvailable: 'Not available in this build yet',
  BackupVerifyFailed: 'Backup verification failed',
  BackupRestoreRefused: 'Restore refused',
  BackupRestoreFailed: 'Restore failed',
  MonitorInvalid: 'Invalid monitoring request',
  NodeExporterFailed: 'Node exporter did not answer',
  AlertRuleInvalid: 'Invalid alert rule',
  AlertRuleUnknown: 'Unknown alert rule',
  AlertNotFound: 'Alert not found',
  WebhookNotConfigured: 'No alert webhook configured',
  WebhookFailed: 'Alert webhook failed',
  MetricsPortFailed: 'Metrics port could not be opened',
  TrafficInvalid: 'Invalid traffic chart request',
  TrafficUnavailable: 'No shard answered the chart',
  CacheInvalid: 'Invalid cache request',
  CacheUnavailable: "The application's cache is unreachable",
  CacheNotConfirmed: 'Cache invalidation not confirmed',
  AuditQueryInvalid: 'Invalid audit log query',
};

function isCodeName(name: string): name is ErrorCodeName {
  return Object.hasOwn(WORDS, name);
}

/** A heading for an error code; a code this build does not know (a newer main process) reads `Error E12345`. */
export function describeErrorCode(code: number): string {
  const name = errorCodeName(code);
  return isCodeName(name) ? WORDS[name] : `Error ${name}`;
}
