import { ErrorCode, errorCodeName } from '../../shared/errors';

/**
 * Error codes in words: the one place the console turns a code into a heading. The message that comes with
 * the code says what exactly went wrong; stacks stay in the main process's log and never reach the page.
 */
const WORDS: Partial<Record<number, string>> = {
  [ErrorCode.InvalidInput]: 'Invalid request',
  [ErrorCode.Internal]: 'Internal error',
  [ErrorCode.ForbiddenSender]: 'Not allowed',
  [ErrorCode.UnknownChannel]: 'Unknown operation',
  [ErrorCode.Cancelled]: 'Cancelled',
  [ErrorCode.ProfileMissing]: 'No cluster profile',
  [ErrorCode.ProfileInvalid]: 'Cluster profile is invalid',
  [ErrorCode.SecretUnavailable]: 'Password unavailable',
  [ErrorCode.ShardUnreachable]: 'Shard unreachable',
  [ErrorCode.ShardAuthFailed]: 'Shard refused the login',
  [ErrorCode.ShardQueryFailed]: 'Query failed on the shard',
  [ErrorCode.RedisUnreachable]: 'Redis unreachable',
  [ErrorCode.UnknownShard]: 'No such shard',
  [ErrorCode.BinaryMissing]: 'Server program not installed',
  [ErrorCode.PortInUse]: 'Port already in use',
  [ErrorCode.SandboxStartFailed]: 'Sandbox did not start',
  [ErrorCode.SandboxNotFound]: 'No sandbox here',
  [ErrorCode.MigrationFailed]: 'Schema migration failed',
  [ErrorCode.SchemaDrift]: 'Schema differs from the expected one',
  [ErrorCode.GenerateInvalid]: 'Invalid traffic settings',
  [ErrorCode.GenerateTableMissing]: 'Raw table missing',
  [ErrorCode.GenerateNoPartition]: 'No partition for those times',
  [ErrorCode.RollupInvalid]: 'Invalid rollup request',
  [ErrorCode.SketchInvalid]: 'Unreadable visitor sketch',
  [ErrorCode.RollupSourceIncomplete]: 'Source data not complete yet',
  [ErrorCode.BackfillInvalid]: 'Invalid backfill request',
  [ErrorCode.BackfillSourcePruned]: 'Source data already pruned',
  [ErrorCode.BackfillOverlap]: 'Another backfill covers these windows',
  [ErrorCode.BackfillNotFound]: 'No such backfill',
  [ErrorCode.BackfillNotResumable]: 'Backfill cannot be resumed',
  [ErrorCode.BackfillNotRunning]: 'Backfill not running',
  [ErrorCode.ScheduleInvalidCron]: 'Invalid cron expression',
  [ErrorCode.ScheduleUnknownJob]: 'No such job',
  [ErrorCode.LeaseUnavailable]: 'Scheduler lease unavailable',
  [ErrorCode.LeaseLost]: 'Scheduler lease lost',
  [ErrorCode.FencedOut]: 'Fenced out by a newer scheduler',
  [ErrorCode.PartitionTableUnmanaged]: 'Table not managed by Strata',
  [ErrorCode.PartitionApplyFailed]: 'Partition change failed',
  [ErrorCode.PartitionOptionsInvalid]: 'Invalid partition settings',
  [ErrorCode.RetentionInvalid]: 'Retention policy refused',
  [ErrorCode.ShardBusy]: 'Shard busy with a conflicting job',
  [ErrorCode.PruneFailed]: 'Prune failed',
  [ErrorCode.ConversionRefused]: 'Table cannot be converted',
  [ErrorCode.ConversionFailed]: 'Conversion failed',
};

/** A heading for an error code; codes added later still read sensibly ("SchemaDrift" → "Schema drift"). */
export function describeErrorCode(code: number): string {
  const words = WORDS[code];
  if (words) return words;
  const name = errorCodeName(code);
  return name.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^./, (first) => first.toUpperCase()).replace(/ [A-Z]/g, (word) => word.toLowerCase());
}
