/**
 * Numbered error codes, grouped per domain (the thousands digit names the domain).
 * They cross IPC as plain values; the renderer maps them to words and stacks stay in the log.
 */
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
  // 4xxx: sandbox
  BinaryMissing: 4001,
  PortInUse: 4002,
  SandboxStartFailed: 4003,
  SandboxNotFound: 4004,
  // 5xxx: schema
  MigrationFailed: 5001,
  SchemaDrift: 5002,
  // 6xxx: traffic generator
  GenerateInvalid: 6001,
  GenerateTableMissing: 6002,
  GenerateNoPartition: 6003,
  // 7xxx: rollups
  RollupInvalid: 7001,
  SketchInvalid: 7002,
  RollupSourceIncomplete: 7003,
  BackfillInvalid: 7004,
  BackfillSourcePruned: 7005,
  BackfillOverlap: 7006,
  BackfillNotFound: 7007,
  BackfillNotResumable: 7008,
  BackfillNotRunning: 7009,
  // 8xxx: scheduler and cluster lease
  ScheduleInvalidCron: 8001,
  ScheduleUnknownJob: 8002,
  LeaseUnavailable: 8003,
  LeaseLost: 8004,
  FencedOut: 8005,
  // 9xxx: partition maintenance
  PartitionTableUnmanaged: 9001,
  PartitionApplyFailed: 9002,
  PartitionOptionsInvalid: 9003,
  RetentionInvalid: 9004,
  ShardBusy: 9005,
  PruneFailed: 9006,
  ConversionRefused: 9007,
  ConversionFailed: 9008,
} as const;

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
