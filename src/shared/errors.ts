/**
 * Numbered error codes, grouped per domain. They cross IPC as plain values; the renderer maps them to words and
 * stacks stay in the log.
 *
 * How ranges are assigned: each domain owns the thousand codes `first … first + 999` listed in ERROR_RANGES,
 * and a new code takes the next free number of its domain's range (codes are never renumbered once released,
 * since scripts match on them). A new domain takes the next free thousand and is added to ERROR_RANGES; a unit
 * test checks every code sits in its domain's range.
 */
export const ERROR_RANGES = {
  request: 1000,
  profile: 2000,
  cluster: 3000,
  sandbox: 4000,
  schema: 5000,
  generate: 6000,
  rollup: 7000,
  scheduler: 8000,
  partitions: 9000,
  retention: 10000,
  backup: 11000,
  monitor: 12000,
  traffic: 13000,
  audit: 14000,
} as const;
export type ErrorDomain = keyof typeof ERROR_RANGES;

export const ErrorCode = {
  // 1xxx: request handling
  InvalidInput: 1001,
  Internal: 1002,
  ForbiddenSender: 1003,
  UnknownChannel: 1004,
  Cancelled: 1005,
  // 2xxx: profile and secrets
  ProfileMissing: 2001,
  ProfileInvalid: 2002,
  SecretUnavailable: 2003,
  // 3xxx: cluster connections
  ShardUnreachable: 3001,
  ShardAuthFailed: 3002,
  ShardQueryFailed: 3003,
  RedisUnreachable: 3004,
  UnknownShard: 3005,
  ShardTimeout: 3006,
  TlsFailed: 3007,
  TlsFileRefused: 3008,
  RedisAuthFailed: 3009,
  // 4xxx: sandbox
  BinaryMissing: 4001,
  PortInUse: 4002,
  SandboxStartFailed: 4003,
  SandboxNotFound: 4004,
  SandboxSignalFailed: 4005,
  // 5xxx: schema
  MigrationFailed: 5001,
  SchemaDrift: 5002,
  // 6xxx: traffic generator
  GenerateInvalid: 6001,
  GenerateTableMissing: 6002,
  GenerateNoPartition: 6003,
  // 7xxx: rollups and backfills
  RollupInvalid: 7001,
  SketchInvalid: 7002,
  RollupSourceIncomplete: 7003,
  BackfillInvalid: 7004,
  BackfillSourcePruned: 7005,
  BackfillOverlap: 7006,
  BackfillNotFound: 7007,
  BackfillNotResumable: 7008,
  BackfillNotRunning: 7009,
  ReconcileInvalid: 7010,
  // 8xxx: scheduler, cluster lease and job conflicts
  ScheduleInvalidCron: 8001,
  ScheduleUnknownJob: 8002,
  LeaseUnavailable: 8003,
  LeaseLost: 8004,
  FencedOut: 8005,
  ShardBusy: 8006,
  // 9xxx: partition maintenance and conversion
  PartitionTableUnmanaged: 9001,
  PartitionApplyFailed: 9002,
  PartitionOptionsInvalid: 9003,
  ConversionRefused: 9007,
  ConversionFailed: 9008,
  DdlLockBusy: 9009,
  // 10xxx: retention and pruning
  RetentionInvalid: 10001,
  PruneFailed: 10002,
  // 11xxx: backups
  BackupInvalid: 11001,
  BackupClientMissing: 11002,
  BackupNoRoom: 11003,
  BackupDumpFailed: 11004,
  BackupNotFound: 11005,
  BackupNotRunning: 11006,
  BackupNotAvailable: 11007,
  BackupVerifyFailed: 11008,
  BackupRestoreRefused: 11009,
  BackupRestoreFailed: 11010,
  // 12xxx: monitoring and alerts
  MonitorInvalid: 12001,
  NodeExporterFailed: 12002,
  AlertRuleInvalid: 12003,
  AlertRuleUnknown: 12004,
  AlertNotFound: 12005,
  WebhookNotConfigured: 12006,
  WebhookFailed: 12007,
  MetricsPortFailed: 12008,
  // 13xxx: traffic charts and the Redis cache (reserved)
  TrafficInvalid: 13001,
  TrafficUnavailable: 13002,
  // 13050-13099: the application's Redis cache
  CacheInvalid: 13050,
  CacheUnavailable: 13051,
  CacheNotConfirmed: 13052,
  // 14xxx: audit log
  AuditQueryInvalid: 14001,
} as const;

/** The domain an error code belongs to, from its range. */
export function errorDomain(code: number): ErrorDomain | undefined {
  const first = Math.floor(code / 1000) * 1000;
  return (Object.entries(ERROR_RANGES) as Array<[ErrorDomain, number]>).find(([, start]) => start === first)?.[0];
}

export type ErrorCodeName = keyof typeof ErrorCode;
export type ErrorCodeValue = (typeof ErrorCode)[ErrorCodeName];

/** An expected failure with a code a user can act on. Anything else is an internal error. */
export class StrataError extends Error {
  readonly code: ErrorCodeValue;

  constructor(code: ErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StrataError';
    this.code = code;
  }
}

export function isStrataError(error: unknown): error is StrataError {
  return error instanceof StrataError;
}

export function errorCodeName(code: number): string {
  const entry = Object.entries(ErrorCode).find(([, value]) => value === code);
  return entry ? entry[0] : `E${code}`;
}
