import { z } from 'zod';

/**
 * The job-conflict rule (issue 4 §3): which jobs may not run on one shard at the same time. Pure: the Redis
 * registry enforces it, and the CLI and tests read it.
 */
export const SHARD_ACTIVITIES = ['backup', 'prune', 'maintenance', 'convert'] as const;

export type ShardActivityKind = (typeof SHARD_ACTIVITIES)[number];

/** One job running on one shard, as the registry stores it (and `strata activity --json` prints it). */
export const activityRecordSchema = z.object({
  /** Random, so two claims of one kind by one process stay two records. */
  id: z.string().min(1),
  kind: z.enum(SHARD_ACTIVITIES),
  shard: z.number().int().nonnegative(),
  host: z.string(),
  pid: z.number().int(),
  startedAt: z.string(),
  detail: z.string().optional(),
});

export type ActivityRecord = z.infer<typeof activityRecordSchema>;

// A backup must see a shard that holds still. Pruning, maintenance and conversion already serialise through
// their own locks, so they do not exclude each other here.
const CONFLICTS: Readonly<Record<ShardActivityKind, readonly ShardActivityKind[]>> = {
  backup: ['backup', 'prune', 'maintenance', 'convert'],
  prune: ['backup'],
  maintenance: ['backup'],
  convert: ['backup'],
};

const LABELS: Readonly<Record<ShardActivityKind, string>> = {
  backup: 'a backup',
  prune: 'a prune',
  maintenance: 'partition maintenance',
  convert: 'a table conversion',
};

export function isShardActivityKind(value: string): value is ShardActivityKind {
  return (SHARD_ACTIVITIES as readonly string[]).includes(value);
}

/** The kinds that may not run on a shard while `kind` runs there (and the other way round). */
export function conflictingKinds(kind: ShardActivityKind): readonly ShardActivityKind[] {
  return CONFLICTS[kind];
}

export function conflicts(a: ShardActivityKind, b: ShardActivityKind): boolean {
  return CONFLICTS[a].includes(b);
}

/** The running record of the same shard that forbids starting `kind` now, or undefined when it may start. */
export function findConflict(kind: ShardActivityKind, running: readonly ActivityRecord[]): ActivityRecord | undefined {
  return running.find((record) => conflicts(kind, record.kind));
}

/** `a backup of shard1 has been running since 2026-11-25T04:00:12Z on host db-admin-2 (pid 4121)`. */
export function describeConflict(record: ActivityRecord, shardName: string): string {
  const since = record.startedAt.replace(/\.\d+Z$/, 'Z');
  const detail = record.detail ? `: ${record.detail}` : '';
  return `${LABELS[record.kind]} of ${shardName} has been running since ${since} on host ${record.host} (pid ${record.pid})${detail}`;
}
