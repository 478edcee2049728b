import { Option, type Command } from 'commander';
import type { BackupProgress, BackupPruneReport, BackupRestoreReport, BackupVerifyReport } from '../../shared/backup';
import { ErrorCode, StrataError } from '../../shared/errors';
import { askToType, formatCount, wholeNumberOption } from '../input';
import { jsonOption, profileOption, type CliContext } from '../context';
import { parseShardList } from './schema';

/** Exit code when a restore over the live database was not confirmed (as `strata prune` without --yes). */
export const EXIT_NOT_CONFIRMED = 2;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

export function formatVerifyReport(report: BackupVerifyReport): string {
  const lines = [`backup ${report.setId}: ${report.parts.every((part) => part.outcome === 'ok') ? 'verified' : 'VERIFY FAILED'}`];
  for (const part of report.parts) {
    lines.push(`${part.shardName.padEnd(8)} ${part.outcome === 'ok' ? 'ok' : 'FAILED'} in ${seconds(part.verifyMs)}${part.error ? `: ${part.error}` : ''}`);
    for (const table of part.tables) {
      const checksum = table.checksumMatches === null ? 'checksum not compared (the source changed since the dump)' : table.checksumMatches ? 'checksum equals the source' : 'CHECKSUM DIFFERS';
      lines.push(`  ${table.table.padEnd(20)} ${table.actualRows === null ? 'missing' : formatCount(table.actualRows)} of ${formatCount(table.expectedRows)} rows; ${checksum}`);
    }
  }
  return lines.join('\n');
}

export function formatRestoreReport(report: BackupRestoreReport): string {
  const lines = [`backup ${report.setId} of ${report.shardName} restored into ${report.database}${report.replaced ? ' (the live database)' : ''} in ${seconds(report.durationMs)}`];
  for (const table of report.tables) lines.push(`  ${table.table.padEnd(20)} ${formatCount(table.rows)} rows`);
  if (report.replaced) {
    for (const watermark of report.watermarks) lines.push(`  ${watermark.level} watermark set back to ${watermark.watermark ?? 'none'}: later windows are rolled up again`);
  }
  return lines.join('\n');
}

export function formatBackupPruneReport(report: BackupPruneReport): string {
  const bytes = report.removed.reduce((sum, entry) => sum + entry.bytes, 0);
  const lines = [`${report.dryRun ? 'dry run: would remove' : 'removed'} ${report.removed.length} set${report.removed.length === 1 ? '' : 's'} (${mb(bytes)}); ${report.kept.length} kept`];
  for (const entry of report.removed) lines.push(`  ${report.dryRun ? 'would remove' : 'removed'} ${entry.setId} (${mb(entry.bytes)})`);
  for (const entry of report.kept) lines.push(`  kept ${entry.setId}: ${entry.reason}`);
  return lines.join('\n');
}

function progressLine(progress: BackupProgress): string | undefined {
  if (progress.kind !== 'shard' || !progress.shardName) return undefined;
  const eta = progress.etaSeconds === null ? '' : `, ~${Math.ceil(progress.etaSeconds)} s left`;
  return `${progress.shardName}: ${mb(progress.bytesWritten)} of the file read, ${mb(progress.dumpBytes)} loaded, ${progress.mbPerSecond.toFixed(1)} MB/s${eta}`;
}

/** At most one progress line a second per shard, so a terminal is not flooded by a fast load. */
function throttledProgress(json: boolean | undefined): (progress: BackupProgress) => void {
  const last = new Map<number, number>();
  return (progress) => {
    if (json || progress.shard === undefined) return;
    const now = Date.now();
    if (now - (last.get(progress.shard) ?? 0) < 1000) return;
    last.set(progress.shard, now);
    const line = progressLine(progress);
    if (line) process.stderr.write(`${line}\n`);
  };
}

const KEEP_UNSET = 'none';

function keepOption(flag: string, max: number) {
  const whole = wholeNumberOption(flag, { min: 1, max }, ErrorCode.BackupInvalid);
  // commander turns a parser's null into '', so "no rule" travels as the word itself.
  return (text: string): number | typeof KEEP_UNSET => (text.trim() === KEEP_UNSET ? KEEP_UNSET : whole(text));
}

/** `strata backup verify|restore|prune|retention`, on the `backup` command. */
export function registerBackupKeepCommands(backup: Command, context: CliContext): void {
  backup
    .command('verify <id>')
    .description('check the sha256 of each file, restore it into a scratch database on its shard and compare row counts and checksums; recorded in the catalog')
    .addOption(new Option('--shards <list>', 'only these shard indexes, such as 0,2').argParser(parseShardList))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (id: string, options: { shards?: number[]; profile?: string; json?: boolean }) => {
      const report = await context.withServices(options.profile, (services) => services.backup.verify({ id, shards: options.shards }, { onProgress: throttledProgress(options.json) }));
      context.print(options.json, report, () => formatVerifyReport(report));
      for (const part of report.parts) if (part.error) process.stderr.write(`strata: backup ${report.setId} of ${part.shardName} failed verification: ${part.error}\n`);
      if (report.parts.some((part) => part.outcome !== 'ok')) context.setExitCode(1);
    });

  backup
    .command('restore <id>')
    .description('restore one shard of a set into another database (default strata_restore_<set>_<shard>); over the live one only with --replace')
    .requiredOption('--shard <index>', 'the shard whose part to restore', wholeNumberOption('--shard', {}, ErrorCode.BackupInvalid))
    .addOption(new Option('--tables <list>', 'only these tables of the dump: hourly, daily, monthly, raw or full names').argParser((text: string) => text.split(',').map((name) => name.trim()).filter(Boolean)))
    .addOption(new Option('--into <database>', 'the database to restore into (created; must not exist)'))
    .addOption(new Option('--replace', "restore over the shard's live database: the scheduler lease is taken for it (no scheduled job runs meanwhile) and the restored levels' watermarks go back to the backup's"))
    .addOption(new Option('--yes', 'confirm --replace without a terminal'))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (id: string, options: { shard: number; tables?: string[]; into?: string; replace?: boolean; yes?: boolean; profile?: string; json?: boolean }) => {
      const replace = options.replace === true;
      const report = await context.withServices(options.profile, async (services, profile) => {
        if (replace && !options.yes) {
          const live = profile.shards[options.shard]?.database;
          if (!live) throw new StrataError(ErrorCode.UnknownShard, `shard ${options.shard} does not exist; the profile has ${profile.shards.length} shards`);
          const question = `Restore backup ${id} over the live database ${live} of shard ${options.shard}? Its tables are replaced by the backup's and their watermarks set back, so the windows since are rolled up again.`;
          const answer = process.stdin.isTTY && process.stderr.isTTY ? await askToType(question, live) : 'no-terminal';
          if (answer !== 'confirmed') {
            process.stderr.write(answer === 'no-terminal' ? 'not restored: --replace needs a typed confirmation on a terminal, or --yes\n' : 'not restored: not confirmed\n');
            return undefined;
          }
        }
        return services.backup.restore({ id, shard: options.shard, tables: options.tables, into: options.into, replace, confirm: true }, { onProgress: throttledProgress(options.json) });
      });
      if (!report) {
        context.setExitCode(EXIT_NOT_CONFIRMED);
        return;
      }
      context.print(options.json, report, () => formatRestoreReport(report));
    });

  backup
    .command('prune')
    .description('remove the sets backup retention lets go (files and catalog rows); never the newest verified set of a shard')
    .addOption(new Option('--dry-run', 'list what would be removed and what is kept, and why; remove nothing'))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: { dryRun?: boolean; profile?: string; json?: boolean }) => {
      const report = await context.withServices(options.profile, (services) => services.backup.prune({ dryRun: options.dryRun === true }));
      context.print(options.json, report, () => formatBackupPruneReport(report));
    });

  backup
    .command('retention')
    .description('show or change how many backup sets and days are kept (stored in the cluster, audited)')
    .addOption(new Option('--keep-sets <n>', `keep the newest N sets (${KEEP_UNSET}: no count rule)`).argParser(keepOption('--keep-sets', 10_000)))
    .addOption(new Option('--keep-days <n>', `keep every set younger than N days (${KEEP_UNSET}: no age rule)`).argParser(keepOption('--keep-days', 36_500)))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: { keepSets?: number | typeof KEEP_UNSET; keepDays?: number | typeof KEEP_UNSET; profile?: string; json?: boolean }) => {
      const rule = (value: number | typeof KEEP_UNSET) => (value === KEEP_UNSET ? null : value);
      const entry = await context.withServices(options.profile, (services) => {
        const change = { ...(options.keepSets !== undefined ? { keepSets: rule(options.keepSets) } : {}), ...(options.keepDays !== undefined ? { keepDays: rule(options.keepDays) } : {}) };
        return Object.keys(change).length > 0 ? services.backupRetention.setPolicy(change) : services.backupRetention.policy();
      });
      context.print(options.json, entry, () => `backup retention${entry.isDefault ? ' (defaults)' : ` (changed by ${entry.changedBy} at ${entry.changedAt})`}: ${entry.description}`);
    });
}
