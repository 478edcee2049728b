import type { BackupPruneReport, BackupSetRecord } from '../../shared/backup';
import type { PartitionApplyReport } from '../../shared/partitions';
import type { PruneReport } from '../../shared/retention';
import type { ReconcileReport } from '../../shared/reconcile';
import type { RollupLevel, RollupReport } from '../../shared/rollup';
import type { BackupService } from '../backup/service';
import type { PartitionApplyOptions } from '../partitions/service';
import type { PruneOptions } from '../retention/service';
import type { JobName, RunTrigger } from '../../shared/schedule';

/** What a scheduled job gets for one run. */
export interface JobContext {
  trigger: RunTrigger;
  /** The token of the lease the run happens under; every watermark write must carry it. */
  fencingToken: number;
  /** Aborted when the scheduler stops or loses the lease: finish the current window or abandon it cleanly. */
  signal: AbortSignal;
  /** The scheduler's clock at the start of the run: which windows are due is decided against it. */
  now: Date;
  /**
   * Called when a watermark held a higher fencing token than the run's. Under a held lease that can only be a
   * token the holder could not see when it took the lease (its shard was away), so the scheduler takes a new one.
   */
  fenced?: () => void;
}

/** What a job says about a run, for the run log and the agent's one line per run. */
export interface JobResult {
  /** One line for people, such as `3 windows, 12 840 rows`. */
  summary: string;
  /** False when the job ran but some of its work failed (a shard down, a window fenced out). */
  ok: boolean;
}

export type JobHandler = (context: JobContext) => Promise<JobResult>;

/** The work behind each scheduled job; a job without a handler is skipped with a warning. */
export type JobHandlers = Partial<Record<JobName, JobHandler>>;

/** The part of the rollup engine the scheduler drives (see src/main/rollup). */
export interface RollupRunner {
  runDue(
    level: RollupLevel,
    options: { trigger: RunTrigger; fencingToken?: number; signal?: AbortSignal; now?: Date },
  ): Promise<RollupReport>;
}

const plural = (count: number, word: string) => `${count.toLocaleString('en-US')} ${word}${count === 1 ? '' : 's'}`;

/** `30 hourly windows on 2 shards, 12,400 rows written`, plus what did not go well. */
export function summariseRollup(report: RollupReport): JobResult {
  const windows = report.shards.flatMap((shard) => shard.windows);
  const rows = windows.reduce((total, window) => total + window.rowsWritten, 0);
  const parts = [`${plural(windows.length, `${report.level} window`)} on ${plural(report.shards.length, 'shard')}, ${plural(rows, 'row')} written`];
  for (const outcome of ['failed', 'fenced', 'cancelled'] as const) {
    const count = windows.filter((window) => window.outcome === outcome).length;
    if (count > 0) parts.push(`${count} ${outcome}`);
  }
  for (const shard of report.shards) if (shard.problem) parts.push(`${shard.shardName}: ${shard.problem.message}`);
  return { summary: parts.join('; '), ok: report.ok };
}

/** The parts of partition maintenance and retention the maintenance job drives. */
export interface MaintenanceRunner {
  partitions: { apply(options?: PartitionApplyOptions): Promise<PartitionApplyReport> };
  retention: { prune(options?: PruneOptions): Promise<PruneReport> };
}

/** `partitions: 2 shards up to date; prune: 192 partitions, 8,000,000 rows removed, 3 windows kept`. */
export function summariseMaintenance(partitions: PartitionApplyReport, prune: PruneReport | undefined): JobResult {
  const applied = partitions.shards.filter((shard) => shard.outcome === 'applied').length;
  const parts = [`partitions: ${applied > 0 ? `added on ${plural(applied, 'shard')}` : 'up to date'}`];
  for (const shard of partitions.shards) if (shard.outcome === 'failed' || shard.outcome === 'blocked') parts.push(`${shard.name} ${shard.outcome}: ${shard.problem?.message ?? 'a statement failed'}`);
  if (prune) {
    const removed = prune.shards.flatMap((shard) => shard.tables).reduce((sum, table) => sum + (table.result ? table.result.deletedRows + (table.result.droppedPartitions > 0 ? table.drops.reduce((rows, drop) => rows + drop.rows, 0) : 0) : 0), 0);
    parts.push(`prune: ${plural(prune.totals.partitions, 'partition')} dropped, ${plural(removed, 'row')} removed, ${plural(prune.totals.kept, 'window')} kept back`);
    for (const shard of prune.shards) if (shard.problem || shard.blockedBy) parts.push(`${shard.name}: ${shard.problem?.message ?? shard.blockedBy}`);
  } else {
    parts.push('prune: waits for its scheduled run');
  }
  return { summary: parts.join('; '), ok: partitions.ok && (prune?.ok ?? true) };
}

/**
 * Partition maintenance and pruning, under the scheduler's lease. Catch-up after an outage only adds the missing
 * partitions (rows may be landing in the catch-all); removing data waits for the scheduled run, a quiet hour.
 */
export function maintenanceJobHandlers(runner: MaintenanceRunner): JobHandlers {
  return {
    maintenance: async ({ trigger, fencingToken, signal }) => {
      const partitions = await runner.partitions.apply({ trigger });
      if (signal.aborted || trigger === 'catch-up') return summariseMaintenance(partitions, undefined);
      return summariseMaintenance(partitions, await runner.retention.prune({ trigger, fencingToken, signal }));
    },
  };
}

/** The rollup jobs: each scheduled tick or catch-up runs every due window of its level, oldest first. */
export function rollupJobHandlers(rollup: RollupRunner): JobHandlers {
  const handler =
    (level: RollupLevel): JobHandler =>
    async ({ trigger, fencingToken, signal, now, fenced }) => {
      const report = await rollup.runDue(level, { trigger, fencingToken, signal, now });
      if (report.shards.some((shard) => shard.windows.some((window) => window.outcome === 'fenced'))) fenced?.();
      return summariseRollup(report);
    };
  return { 'rollup-hourly': handler('hourly'), 'rollup-daily': handler('daily'), 'rollup-monthly': handler('monthly') };
}

/** The part of reconciliation the scheduler drives (see src/main/reconcile). */
export interface ReconcileRunner {
  run(options: { trigger: RunTrigger; fencingToken?: number; signal?: AbortSignal }): Promise<ReconcileReport>;
}

/** `2 shards: shard0 repaired (1 hourly, 1 daily, 1 monthly window re-rolled), shard1 matched`. */
export function summariseReconcile(report: ReconcileReport): JobResult {
  const parts = report.shards.map((shard) => {
    const reRolled = shard.levels
      .map((level) => [level.level, level.windows.filter((window) => window.action === 're-rolled').length] as const)
      .filter(([, count]) => count > 0)
      .map(([level, count]) => `${count} ${level}`);
    const problem = shard.problem ? `: ${shard.problem.message}` : '';
    return `${shard.shardName} ${shard.outcome}${reRolled.length > 0 ? ` (${reRolled.join(', ')} re-rolled)` : ''}${problem}`;
  });
  return { summary: `${plural(report.shards.length, 'shard')}: ${parts.join(', ')}`, ok: report.ok };
}

/**
 * The daily reconciliation, under the scheduler's lease. Its catch-up does nothing: it compares everything retention
 * holds, so a missed run is made good by the next scheduled one, and a console or agent taking the lease does not
 * scan the raw table each time.
 */
export function reconcileJobHandlers(runner: ReconcileRunner): JobHandlers {
  return {
    reconcile: async ({ trigger, fencingToken, signal }) => {
      if (trigger === 'catch-up') return { summary: 'waits for its scheduled run', ok: true };
      return summariseReconcile(await runner.run({ trigger, fencingToken, signal }));
    },
  };
}

/** The parts of backups the scheduled `backup` job drives (see src/main/backup). */
export interface BackupJobRunner {
  /** When the newest set of the catalog started, whatever its outcome; undefined when there is none. */
  newestSetStartedAt(): Promise<Date | undefined>;
  /** Takes a set of every shard with the default tables and waits until every dump has ended. */
  backup(options: { signal: AbortSignal }): Promise<BackupSetRecord>;
  /** Removes what the backup retention lets go. */
  prune(): Promise<BackupPruneReport>;
}

/** How old the newest set may be before a scheduler that takes the lease catches up a missed day. */
export const BACKUP_CATCH_UP_AGE_MS = 24 * 3_600_000;

/** `set 20261202T010000Z-3f2a ok: 2 parts, 48.2 MB; retention removed 1 set, kept 7`. */
export function summariseBackup(record: BackupSetRecord, prune: BackupPruneReport | undefined, pruneProblem?: string): JobResult {
  const ok = record.parts.filter((part) => part.outcome === 'ok').length;
  const parts = [`set ${record.id} ${record.state}: ${ok} of ${plural(record.parts.length, 'part')} ok, ${(record.bytes / 1e6).toFixed(1)} MB`];
  for (const part of record.parts) if (part.outcome !== 'ok') parts.push(`${part.shardName} ${part.outcome}${part.error ? `: ${part.error.message}` : ''}`);
  if (prune) parts.push(`retention removed ${plural(prune.removed.length, 'set')}, kept ${prune.kept.length}`);
  if (pruneProblem) parts.push(`retention failed: ${pruneProblem}`);
  return { summary: parts.join('; '), ok: record.state === 'ok' && !pruneProblem };
}

/**
 * The nightly backup under the scheduler's lease, then backup retention. A scheduler that takes the lease
 * catches up a missed day: it backs up when the newest set is more than a day old (a cluster that never had a
 * set waits for the schedule). Retention runs only after a set that is not cancelled, so an aborted night never
 * removes an older set in its place.
 */
export function backupJobHandlers(runner: BackupJobRunner): JobHandlers {
  return {
    backup: async ({ trigger, signal, now }) => {
      if (trigger === 'catch-up') {
        const newest = await runner.newestSetStartedAt();
        if (!newest) return { summary: 'no backup set yet; the first one waits for its scheduled run', ok: true };
        if (now.getTime() - newest.getTime() < BACKUP_CATCH_UP_AGE_MS) return { summary: `the newest set started ${newest.toISOString()}, less than a day ago: nothing missed`, ok: true };
      }
      const record = await runner.backup({ signal });
      if (signal.aborted || record.state === 'cancelled') return summariseBackup(record, undefined);
      try {
        return summariseBackup(record, await runner.prune());
      } catch (error) {
        return summariseBackup(record, undefined, error instanceof Error ? error.message : String(error));
      }
    },
  };
}

/** The backup job's runner over the backup service: the default set of every shard, cancelled when the run aborts. */
export function backupJobRunner(backup: Pick<BackupService, 'start' | 'list' | 'cancel' | 'prune'>): BackupJobRunner {
  return {
    async newestSetStartedAt() {
      const newest = (await backup.list(1)).sets[0];
      return newest ? new Date(newest.startedAt) : undefined;
    },
    async backup({ signal }) {
      const started = await backup.start({});
      const cancel = () => void backup.cancel(started.record.id).catch(() => {});
      signal.addEventListener('abort', cancel, { once: true });
      try {
        return await started.done;
      } finally {
        signal.removeEventListener('abort', cancel);
      }
    },
    prune: () => backup.prune({}),
  };
}
