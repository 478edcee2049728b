import { ErrorCode, StrataError } from '../../shared/errors';

/**
 * How many backup sets the cluster keeps: the newest `keepSets` usable sets and every set younger than `keepDays`
 * (a set goes only when no rule keeps it); null switches a rule off. Stored on the control shard (state.settings)
 * so every console and agent prunes alike.
 */
export interface BackupRetentionPolicy {
  keepSets: number | null;
  keepDays: number | null;
}

export const DEFAULT_BACKUP_RETENTION: BackupRetentionPolicy = { keepSets: 7, keepDays: 14 };

/** The name of the stored policy in strata_settings. */
export const BACKUP_RETENTION_SETTING = 'backup.retention';

/** What the retention planner needs to know of one set. */
export interface RetainedSet {
  id: string;
  startedAt: Date;
  /** `running` sets are never removed; `failed` and `cancelled` ones hold no usable dump and count for no rule but the days. */
  state: 'running' | 'ok' | 'partial' | 'failed' | 'cancelled';
  /** The shards whose part of this set was verified by a restore (the latest verification succeeded). */
  verifiedShards: readonly number[];
}

export type KeepReason = 'running' | 'newest-sets' | 'within-days' | 'newest-verified';

export interface SetDecision {
  id: string;
  startedAt: Date;
  /** Empty when the set goes. */
  keptBecause: KeepReason[];
  /** For `newest-verified`: the shards this set is the newest verified backup of. */
  newestVerifiedOf: number[];
}

export interface BackupRetentionPlan {
  keep: SetDecision[];
  remove: SetDecision[];
}

const MAX_KEEP_SETS = 10_000;
const MAX_KEEP_DAYS = 36_500;

/** Refuses a policy that would keep nothing by rule, or values out of range; answers the normalised policy. */
export function validateBackupRetention(policy: BackupRetentionPolicy): BackupRetentionPolicy {
  const check = (name: string, value: number | null, max: number) => {
    if (value === null) return;
    if (!Number.isSafeInteger(value) || value < 1 || value > max) throw new StrataError(ErrorCode.InvalidInput, `${name} must be a whole number from 1 to ${max}, got ${value}`);
  };
  check('keepSets', policy.keepSets, MAX_KEEP_SETS);
  check('keepDays', policy.keepDays, MAX_KEEP_DAYS);
  if (policy.keepSets === null && policy.keepDays === null) {
    throw new StrataError(ErrorCode.InvalidInput, 'a backup retention needs keepSets, keepDays or both; without either every finished set would go');
  }
  return { keepSets: policy.keepSets, keepDays: policy.keepDays };
}

/** Reads a stored policy; a value that does not parse falls back to the defaults rather than removing anything more. */
export function parseStoredBackupRetention(text: string | undefined): BackupRetentionPolicy {
  if (!text) return DEFAULT_BACKUP_RETENTION;
  try {
    const value = JSON.parse(text) as Partial<BackupRetentionPolicy>;
    return validateBackupRetention({ keepSets: value.keepSets ?? null, keepDays: value.keepDays ?? null });
  } catch {
    return DEFAULT_BACKUP_RETENTION;
  }
}

/**
 * Which sets a prune removes. A set is kept while it runs, while it is one of the newest `keepSets` sets that
 * hold dumps (ok or partial), while it is younger than `keepDays`, and while it is the newest set with a verified
 * part of some shard: a prune never leaves a shard without its newest backup known to restore.
 */
export function planBackupRetention(sets: readonly RetainedSet[], policy: BackupRetentionPolicy, now: Date): BackupRetentionPlan {
  const newestFirst = [...sets].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime() || b.id.localeCompare(a.id));
  const usable = newestFirst.filter((set) => set.state === 'ok' || set.state === 'partial');
  const newestSets = new Set(policy.keepSets === null ? [] : usable.slice(0, policy.keepSets).map((set) => set.id));
  const cutoff = policy.keepDays === null ? undefined : now.getTime() - policy.keepDays * 86_400_000;
  const newestVerified = new Map<string, number[]>();
  const seenShards = new Set<number>();
  for (const set of newestFirst) {
    for (const shard of set.verifiedShards) {
      if (seenShards.has(shard)) continue;
      seenShards.add(shard);
      newestVerified.set(set.id, [...(newestVerified.get(set.id) ?? []), shard].sort((a, b) => a - b));
    }
  }
  const plan: BackupRetentionPlan = { keep: [], remove: [] };
  for (const set of newestFirst) {
    const keptBecause: KeepReason[] = [];
    if (set.state === 'running') keptBecause.push('running');
    if (newestSets.has(set.id)) keptBecause.push('newest-sets');
    if (cutoff !== undefined && set.startedAt.getTime() >= cutoff) keptBecause.push('within-days');
    const verifiedOf = newestVerified.get(set.id) ?? [];
    if (verifiedOf.length > 0) keptBecause.push('newest-verified');
    const decision = { id: set.id, startedAt: set.startedAt, keptBecause, newestVerifiedOf: verifiedOf };
    (keptBecause.length > 0 ? plan.keep : plan.remove).push(decision);
  }
  return plan;
}

/** `keep the newest 7 sets and 14 days` for people and the audit log. */
export function describeBackupRetention(policy: BackupRetentionPolicy): string {
  const rules = [policy.keepSets !== null ? `the newest ${policy.keepSets} set${policy.keepSets === 1 ? '' : 's'}` : undefined, policy.keepDays !== null ? `${policy.keepDays} day${policy.keepDays === 1 ? '' : 's'}` : undefined];
  return `keep ${rules.filter(Boolean).join(' and ')}, and always the newest verified set of each shard`;
}
