import { MultiBar, type SingleBar } from 'cli-progress';
import { Command, Option } from 'commander';
import type { BackupList, BackupPlan, BackupProgress, BackupRequest, BackupSetRecord, BackupTableChoice } from '../../shared/backup';
import { ErrorCode, StrataError } from '../../shared/errors';
import { EXIT_CANCELLED, formatCount } from '../input';
import { jsonOption, profileOption, type CommandRegistrar } from '../context';
import { registerBackupKeepCommands } from './backup-restore';

interface RunOptions {
  shards?: string;
  tables?: string;
  includeRaw?: boolean;
  dest?: string;
  dryRun?: boolean;
  profile?: string;
  json?: boolean;
}

function invalid(message: string): never {
  throw new StrataError(ErrorCode.BackupInvalid, message);
}

/** Checks every option that needs no cluster. */
export function parseBackupRunOptions(options: RunOptions): BackupRequest {
  const request: BackupRequest = { includeRaw: options.includeRaw === true, dryRun: options.dryRun === true };
  if (options.shards !== undefined) {
    if (!/^\d+(,\d+)*$/.test(options.shards)) invalid(`--shards must be shard indexes separated by commas, such as 0,2, got '${options.shards}'`);
    request.shards = [...new Set(options.shards.split(',').map(Number))];
  }
  if (options.tables !== undefined) {
    const names = options.tables.split(',').map((name) => name.trim());
    const unknown = names.filter((name) => !['hourly', 'daily', 'monthly'].includes(name));
    if (unknown.length > 0 || names.length === 0) invalid(`--tables takes hourly, daily and monthly separated by commas, got '${options.tables}'`);
    request.tables = [...new Set(names)] as BackupTableChoice[];
  }
  if (options.dest !== undefined) request.dest = options.dest;
  return request;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function formatBackupPlan(plan: BackupPlan): string {
  const lines = [`dry run: nothing was dumped`, `destination ${plan.dest}: ${mb(plan.freeBytes)} free; ${plan.compression}; ${plan.client.kind} ${plan.client.version} (${plan.client.path}); up to ${plan.parallelism} shards at once`];
  for (const shard of plan.shards) {
    lines.push(`${shard.shardName}:`);
    if (shard.problem) {
      lines.push(`  FAILED: ${shard.problem.message}`);
      continue;
    }
    if (shard.blockedBy) lines.push(`  will be skipped: ${shard.blockedBy}`);
    for (const table of shard.tables) lines.push(`  ${table.table.padEnd(20)} ~${formatCount(table.estimatedRows)} rows  ${mb(table.estimatedBytes)}`);
    lines.push(`  about ${mb(shard.estimatedBytes)} to dump, ${mb(shard.estimatedFileBytes)} compressed, ${shard.estimatedSeconds} s (${shard.rate.note})`);
    lines.push(`  binary log: ${shard.binaryLogging ? 'on, the position is recorded' : 'off'}`);
    lines.push(`  ${shard.commandLine}`);
  }
  lines.push(plan.refusal ? `REFUSED: ${plan.refusal}` : `total about ${mb(plan.estimatedFileBytes)} compressed; the destination has room`);
  return lines.join('\n');
}

export function formatBackupSet(record: BackupSetRecord): string {
  const lines = [`backup set ${record.id}: ${record.state}  (${record.dest})`];
  for (const part of record.parts) {
    const rows = part.rowCounts.reduce((sum, table) => sum + table.rows, 0);
    const what = part.outcome === 'ok' ? `${part.file}  ${mb(part.bytes)} (${mb(part.dumpBytes)} dumped)  ${formatCount(rows)} rows  ${seconds(part.durationMs)}  sha256 ${part.sha256?.slice(0, 12)}…` : `${part.outcome.toUpperCase()}: ${part.error?.message ?? ''}`;
    lines.push(`  ${part.shardName.padEnd(10)} ${what}`);
  }
  if (record.state !== 'ok') lines.push(`NOT OK: the set is ${record.state}`);
  return lines.join('\n');
}

function age(seconds: number | null): string {
  if (seconds === null) return 'none verified';
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${Math.floor(seconds / 86_400)} days`;
}

export function formatBackupList(list: BackupList): string {
  const lines: string[] = [];
  if (list.sets.length === 0) lines.push('no backup sets yet');
  for (const set of list.sets) {
    const verified = set.parts.filter((part) => part.verifyOutcome === 'ok').length;
    const failedVerify = set.parts.filter((part) => part.verifyOutcome === 'failed').length;
    const rows = set.parts.reduce((sum, part) => sum + part.rowCounts.reduce((total, table) => total + table.rows, 0), 0);
    const duration = set.finishedAt ? seconds(Date.parse(set.finishedAt) - Date.parse(set.startedAt)) : 'running';
    const verification = failedVerify > 0 ? `verify FAILED on ${failedVerify}` : verified > 0 ? `verified ${verified}/${set.parts.length}` : 'not verified';
    lines.push(`${set.id}  ${set.state.padEnd(9)} ${mb(set.bytes).padStart(10)}  ${formatCount(rows).padStart(12)} rows  ${duration.padStart(8)}  ${verification}`);
    for (const part of set.parts) lines.push(`    ${part.shardName.padEnd(10)} ${part.outcome.padEnd(9)} ${mb(part.bytes).padStart(10)}  ${seconds(part.durationMs)}${part.error ? `  ${part.error.message}` : ''}`);
  }
  lines.push('newest verified backup per shard:');
  for (const shard of list.newestVerified) lines.push(`  ${shard.shardName.padEnd(10)} ${shard.setId ? `${shard.setId}, ${age(shard.ageSeconds)} old` : 'none verified'}`);
  return lines.join('\n');
}

/** One line per shard event on stderr: a person sees bytes, MB/s and time left; scripts get clean stdout. */
function progressLine(progress: BackupProgress): string | undefined {
  if (progress.kind !== 'shard' || progress.shardName === undefined) return undefined;
  const eta = progress.etaSeconds === null ? '' : `, ~${Math.ceil(progress.etaSeconds)} s left`;
  if (progress.outcome === 'running') {
    return `${progress.shardName}: ${mb(progress.dumpBytes)} dumped → ${mb(progress.bytesWritten)} written, ${progress.tablesDone}/${progress.tablesTotal} tables${progress.currentTable ? ` (${progress.currentTable})` : ''}, ${progress.mbPerSecond} MB/s${eta}`;
  }
  return `${progress.shardName}: ${progress.outcome}${progress.error ? `: ${progress.error}` : ''}`;
}

/** How far a shard's dump is, in percent: from the time left when the rate gives one, else from the tables done. */
export function backupPercent(progress: BackupProgress): number {
  if (progress.outcome !== undefined && progress.outcome !== 'running') return progress.outcome === 'ok' ? 100 : 0;
  if (progress.etaSeconds !== null && progress.elapsedMs > 0) return Math.min(99, Math.floor((100 * progress.elapsedMs) / (progress.elapsedMs + progress.etaSeconds * 1000)));
  return progress.tablesTotal > 0 ? Math.floor((100 * progress.tablesDone) / progress.tablesTotal) : 0;
}

interface ProgressDisplay {
  update(progress: BackupProgress): void;
  stop(): void;
}

/** A cli-progress bar per shard on a terminal (bytes, MB/s, time left), one line per event otherwise, nothing with --json. */
function backupProgressDisplay(mode: 'bars' | 'lines' | 'none'): ProgressDisplay {
  if (mode === 'none') return { update() {}, stop() {} };
  if (mode === 'lines') {
    return {
      update(progress) {
        const line = progressLine(progress);
        if (line) process.stderr.write(`${line}\n`);
      },
      stop() {},
    };
  }
  const multi = new MultiBar({ format: '{shard} [{bar}] {percentage}% | {bytes} | {rate} | {eta_left} | {stage}', hideCursor: true, clearOnComplete: false, stream: process.stderr });
  const bars = new Map<number, SingleBar>();
  return {
    update(progress) {
      if (progress.kind !== 'shard' || progress.shard === undefined || progress.shardName === undefined) return;
      const payload = {
        shard: progress.shardName.padEnd(10),
        bytes: `${mb(progress.dumpBytes)} → ${mb(progress.bytesWritten)}`,
        rate: `${progress.mbPerSecond.toFixed(1)} MB/s`,
        eta_left: progress.outcome === 'running' && progress.etaSeconds !== null ? `~${Math.ceil(progress.etaSeconds)} s left` : '',
        stage: progress.outcome === 'running' ? `${progress.tablesDone}/${progress.tablesTotal} tables${progress.currentTable ? ` (${progress.currentTable})` : ''}` : `${progress.outcome}${progress.error ? `: ${progress.error}` : ''}`,
      };
      const bar = bars.get(progress.shard);
      if (bar) bar.update(backupPercent(progress), payload);
      else bars.set(progress.shard, multi.create(100, backupPercent(progress), payload));
    },
    stop() {
      multi.stop();
    },
  };
}

function registerRun(backup: Command, context: Parameters<CommandRegistrar>[1]): void {
  backup
    .command('run')
    .description('dump every shard (or --shards) in parallel into one backup set: compressed files, a manifest and a catalog row')
    .addOption(new Option('--shards <list>', 'only these shard indexes, such as 0,2'))
    .addOption(new Option('--tables <list>', 'aggregate tables: hourly,daily,monthly (default all three; Strata state tables always)'))
    .addOption(new Option('--include-raw', 'also dump analytics_realtime'))
    .addOption(new Option('--dest <dir>', "destination folder (default: the profile's backup.dest, else ~/.strata/backups)"))
    .addOption(new Option('--dry-run', 'print per shard the tables, sizes, time, free space and exact command; dump nothing'))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: RunOptions) => {
      const request = parseBackupRunOptions(options);
      if (request.dryRun) {
        const plan = await context.withServices(options.profile, (services) => services.backup.plan(request));
        context.print(options.json, plan, () => formatBackupPlan(plan));
        if (plan.refusal || plan.shards.some((shard) => shard.problem)) context.setExitCode(1);
        return;
      }
      let interrupted = false;
      const display = backupProgressDisplay(options.json ? 'none' : process.stderr.isTTY ? 'bars' : 'lines');
      const record = await context.withServices(options.profile, async (services) => {
        const started = await services.backup.start(request, { onProgress: (progress) => display.update(progress) });
        if (!options.json) process.stderr.write(`backup set ${started.record.id} started; Ctrl-C (or strata backup cancel ${started.record.id}) stops it\n`);
        const onSignal = () => {
          interrupted = true;
          void services.backup.cancel(started.record.id).catch(() => {});
        };
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          return await started.done;
        } finally {
          process.removeListener('SIGINT', onSignal);
          process.removeListener('SIGTERM', onSignal);
          display.stop();
        }
      });
      context.print(options.json, record, () => formatBackupSet(record));
      if (interrupted || record.state === 'cancelled') context.setExitCode(EXIT_CANCELLED);
      else if (record.state !== 'ok') context.setExitCode(1);
    });
}

export const registerBackupCommand: CommandRegistrar = (program, context) => {
  const backup = program.command('backup').description('back up every shard with mysqldump/mariadb-dump into compressed, checksummed sets; list, cancel, verify, restore and prune them');
  registerRun(backup, context);
  backup
    .command('list')
    .description('the backup sets of the catalog, newest first, and per shard the age of the newest verified backup')
    .addOption(new Option('--limit <n>', 'how many sets').default('50'))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: { limit: string; profile?: string; json?: boolean }) => {
      const limit = Number(options.limit);
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > 500) invalid(`--limit must be a whole number from 1 to 500, got '${options.limit}'`);
      const list = await context.withServices(options.profile, (services) => services.backup.list(limit));
      context.print(options.json, list, () => formatBackupList(list));
    });
  backup
    .command('cancel <id>')
    .description('stop every dump of a running set, on whatever host runs it; its partial files are removed')
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (id: string, options: { profile?: string; json?: boolean }) => {
      const record = await context.withServices(options.profile, (services) => services.backup.cancel(id));
      context.print(options.json, record, () => formatBackupSet(record));
      if (record.state !== 'cancelled') context.setExitCode(1);
    });
  registerBackupKeepCommands(backup, context);
};
