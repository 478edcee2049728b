import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { BackupPruneReport, BackupPruneRequestInput, BackupSetRecord } from '../../shared/backup';
import { osUser } from '../identity';
import type { ScopedLogger } from '../log';
import type { ClusterState } from '../state';
import type { BackupCatalog } from './catalog';
import {
  BACKUP_RETENTION_SETTING,
  describeBackupRetention,
  parseStoredBackupRetention,
  planBackupRetention,
  validateBackupRetention,
  type BackupRetentionPolicy,
  type KeepReason,
  type RetainedSet,
  type SetDecision,
} from './retention';
import { partFilePath } from './restore-service';

/** The stored policy with who changed it last. */
export interface BackupRetentionEntry {
  policy: BackupRetentionPolicy;
  isDefault: boolean;
  changedBy?: string;
  changedAt?: string;
  /** The policy in a sentence. */
  description: string;
}

export interface BackupRetentionServiceOptions {
  clock?: () => Date;
  actor?: string;
  host?: string;
}

/** How many sets a prune looks at: far more than any retention keeps. */
const CATALOG_LIMIT = 100_000;

const REASON_WORDS: Record<KeepReason, string> = {
  running: 'still running',
  'newest-sets': 'one of the newest sets',
  'within-days': 'younger than the retention days',
  'newest-verified': 'the newest verified backup of',
};

function keptReason(decision: SetDecision, shardName: (index: number) => string): string {
  return decision.keptBecause.map((reason) => (reason === 'newest-verified' ? `${REASON_WORDS[reason]} ${decision.newestVerifiedOf.map(shardName).join(', ')}` : REASON_WORDS[reason])).join('; ');
}

export function retainedSet(record: BackupSetRecord): RetainedSet {
  const state = record.state === 'cancelling' ? 'running' : record.state;
  return { id: record.id, startedAt: new Date(record.startedAt), state, verifiedShards: record.parts.filter((part) => part.outcome === 'ok' && part.verifyOutcome === 'ok').map((part) => part.shard) };
}

/**
 * Backup retention: the stored policy (audited when changed) and the prune that removes the sets it lets go,
 * their files first and then their catalog rows, so a prune stopped between the two leaves a row that the next
 * prune removes rather than files nobody lists.
 */
export class ClusterBackupRetention {
  private readonly clock: () => Date;
  private readonly actor: string;
  private readonly host: string;

  constructor(
    private readonly state: ClusterState,
    private readonly catalog: Pick<BackupCatalog, 'list' | 'deleteSet'>,
    private readonly log: ScopedLogger,
    options: BackupRetentionServiceOptions = {},
  ) {
    this.clock = options.clock ?? (() => new Date());
    this.actor = options.actor ?? osUser();
    this.host = options.host ?? hostname();
  }

  async policy(): Promise<BackupRetentionEntry> {
    const stored = await this.state.settings.read(BACKUP_RETENTION_SETTING);
    const policy = parseStoredBackupRetention(stored?.value);
    return { policy, isDefault: !stored, changedBy: stored?.updatedBy, changedAt: stored?.updatedAt.toISOString(), description: describeBackupRetention(policy) };
  }

  /** Stores a change of the policy for every console and agent, with its audit entry in the same transaction. */
  async setPolicy(change: Partial<BackupRetentionPolicy>): Promise<BackupRetentionEntry> {
    const at = this.clock();
    const changedBy = `${this.actor}@${this.host}`;
    const policy = await this.state.control.transaction(async (session) => {
      const before = parseStoredBackupRetention((await this.state.settings.readForUpdate(session, BACKUP_RETENTION_SETTING))?.value);
      const after = validateBackupRetention({ keepSets: change.keepSets === undefined ? before.keepSets : change.keepSets, keepDays: change.keepDays === undefined ? before.keepDays : change.keepDays });
      await this.state.settings.write({ name: BACKUP_RETENTION_SETTING, value: JSON.stringify(after), updatedAt: at, updatedBy: changedBy }, session);
      await this.state.audit.write({ at, actor: this.actor, host: this.host, action: 'backup.retention', target: 'backups', detail: JSON.stringify({ from: before, to: after }) }, session);
      return after;
    });
    return { policy, isDefault: false, changedBy, changedAt: at.toISOString(), description: describeBackupRetention(policy) };
  }

  async prune(request: BackupPruneRequestInput = {}): Promise<BackupPruneReport> {
    const dryRun = request.dryRun ?? false;
    const { policy } = await this.policy();
    const sets = await this.catalog.list(CATALOG_LIMIT);
    const byId = new Map(sets.map((set) => [set.id, set]));
    const plan = planBackupRetention(sets.map(retainedSet), policy, this.clock());
    const shardName = (index: number) => sets.flatMap((set) => set.parts).find((part) => part.shard === index)?.shardName ?? `shard${index}`;
    const report: BackupPruneReport = {
      dryRun,
      removed: plan.remove.map((decision) => ({ setId: decision.id, reason: `older than the policy keeps (${describeBackupRetention(policy)})`, bytes: byId.get(decision.id)?.bytes ?? 0 })),
      kept: plan.keep.map((decision) => ({ setId: decision.id, reason: keptReason(decision, shardName) })),
    };
    if (dryRun || report.removed.length === 0) return report;
    for (const decision of plan.remove) {
      const record = byId.get(decision.id)!;
      const files = [...record.parts.map((part) => partFilePath(record, part)), record.manifestPath];
      await Promise.all(files.map((file) => rm(file, { force: true })));
      await this.catalog.deleteSet(record.id);
      this.log.info(`backup ${record.id} removed by retention (${files.length} files)`);
    }
    await this.state.audit.writeBestEffort({
      at: this.clock(),
      actor: this.actor,
      host: this.host,
      action: 'backup.prune',
      target: 'backups',
      detail: JSON.stringify({ policy, removed: report.removed.map((entry) => entry.setId) }),
    });
    return report;
  }
}
