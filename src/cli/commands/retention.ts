import { Option } from 'commander';
import { ErrorCode, StrataError } from '../../shared/errors';
import { formatBytes } from '../../shared/format';
import {
  RETAINED_TABLES,
  RETENTION_TABLE_NAMES,
  isRetentionTable,
  type MaintenanceRun,
  type PruneProgress,
  type PruneReport,
  type RetentionPolicyEntry,
  type RetentionSetRequest,
  type RetentionTable,
} from '../../shared/retention';
import { EXIT_CANCELLED, askToType, formatCount } from '../input';
import { jsonOption, profileOption, reportPartial, type CommandRegistrar } from '../context';
import { parseShardList } from './schema';

/** Exit code when a destructive command was not confirmed. */
export const EXIT_NOT_CONFIRMED = 2;

const SETTINGS = [
  { flag: 'raw-hours', key: 'rawHours', help: 'hours raw page views are kept' },
  { flag: 'hourly-days', key: 'hourlyDays', help: 'days hourly rows are kept' },
  { flag: 'daily-days', key: 'dailyDays', help: 'days daily rows are kept' },
  { flag: 'monthly-months', key: 'monthlyMonths', help: 'months monthly rows are kept' },
  { flag: 'batch-rows', key: 'batchRows', help: 'rows one DELETE batch removes' },
  { flag: 'batch-pause-ms', key: 'batchPauseMs', help: 'pause between DELETE batches, in ms' },
  { flag: 'time-budget-seconds', key: 'timeBudgetSeconds', help: 'time one prune may spend per shard, in seconds' },
] as const;

/** `raw,hourly` or full table names into the tables they name; anything else is refused. */
export function parseTableList(text: string): RetentionTable[] {
  const byLabel = new Map<string, RetentionTable>(RETENTION_TABLE_NAMES.map((table) => [RETAINED_TABLES[table].label, table]));
  return text.split(',').map((part) => {
    const name = part.trim();
    const table = isRetentionTable(name) ? name : byLabel.get(name);
    if (!table) {
      throw new StrataError(ErrorCode.PartitionTableUnmanaged, `${name || "''"} is not a table Strata manages; use raw, hourly, daily, monthly or ${RETENTION_TABLE_NAMES.join(', ')}`);
    }
    return table;
  });
}

function parseWholeNumber(flag: string) {
  return (text: string): number => {
    if (!/^\d+$/.test(text.trim())) throw new StrataError(ErrorCode.RetentionInvalid, `--${flag} takes a whole number, got '${text}'`);
    return Number(text);
  };
}

export function formatPolicy(entry: RetentionPolicyEntry): string {
  const lines = [`retention policy${entry.isDefault ? ' (defaults)' : ` (changed by ${entry.changedBy} at ${entry.changedAt})`}`];
  for (const setting of SETTINGS) {
    const value = entry.policy[setting.key];
    const fallback = entry.defaults[setting.key];
    const minimum = entry.minimums[setting.key];
    lines.push(
      `  --${setting.flag.padEnd(20)} ${String(value).padStart(7)}  ${setting.help}${value === fallback ? '' : ` (default ${fallback})`}${minimum ? `; at least ${minimum.value}` : ''}`,
    );
  }
  return lines.join('\n');
}

/**
 * The report of a dry run or a real prune. `nothingToDo` is a real prune that found nothing it may remove: it was
 * asked for, so it does not read as a dry run.
 */
export function formatPruneReport(report: PruneReport, options: { nothingToDo?: boolean } = {}): string {
  const kept = `${report.totals.kept} window${report.totals.kept === 1 ? '' : 's'} kept back`;
  const amounts = `${formatCount(report.totals.rows)} rows, ${report.totals.partitions} partition${report.totals.partitions === 1 ? '' : 's'}, ${formatBytes(report.totals.bytes)}`;
  const lines = [options.nothingToDo ? `nothing to prune: nothing past retention may go yet; ${kept}` : `${report.dryRun ? 'dry run: would remove' : 'removed'} ${amounts}; ${kept}`];
  for (const shard of report.shards) {
    if (shard.problem) {
      // A shard that died mid-run still lists the tables it had already pruned.
      lines.push(`${shard.name}: ${shard.tables.length > 0 ? 'STOPPED' : 'NOT PRUNED'}: ${shard.problem.message}`);
      if (shard.tables.length === 0) continue;
    }
    if (shard.blockedBy) {
      lines.push(`${shard.name}: SKIPPED: ${shard.blockedBy}`);
      continue;
    }
    for (const table of shard.tables) {
      const parts = [`${shard.name.padEnd(8)} ${table.table.padEnd(19)} cutoff ${table.cutoff.slice(0, 16)}Z`];
      parts.push(`${table.drops.length} partition${table.drops.length === 1 ? '' : 's'} to drop`);
      parts.push(`${table.deletes.length} range${table.deletes.length === 1 ? '' : 's'} to delete`);
      parts.push(`${formatCount(table.rows)} rows, ${formatBytes(table.bytes)}`);
      if (!table.partitioned) parts.push('not partitioned: batched deletes only');
      if (table.result) {
        const result = table.result;
        parts.push(`→ dropped ${result.droppedPartitions}, deleted ${formatCount(result.deletedRows)} in ${(result.elapsedMs / 1000).toFixed(2)} s${result.stoppedBy ? `, STOPPED: ${result.stoppedBy}${result.error ? ` (${result.error})` : ''}` : ''}`);
      }
      lines.push(parts.join('; '));
      for (const kept of table.kept) lines.push(`  kept (${kept.reason}): ${kept.message}`);
    }
  }
  return lines.join('\n');
}

export function formatRuns(runs: MaintenanceRun[]): string {
  if (runs.length === 0) return 'no prune or partition maintenance has run yet';
  return runs
    .map((run) =>
      [run.startedAt.replace(/\.\d{3}Z$/, 'Z'), run.job.padEnd(10), run.shardName.padEnd(8), (run.table ?? '-').padEnd(8), run.outcome.padEnd(9), `${formatCount(run.rowsRemoved)} rows`, run.trigger, run.host, run.detail ?? '', run.error ?? ''].join('  ').trimEnd(),
    )
    .join('\n');
}

function progressLine(progress: PruneProgress): string | undefined {
  const where = `${progress.shardName} ${progress.table}`;
  switch (progress.kind) {
    case 'partitions-dropped':
      return `${where}: dropped ${progress.droppedPartitions} partitions`;
    case 'batch-deleted':
      return `${where}: deleted ${formatCount(progress.deletedRows)} of ${formatCount(progress.plannedRows)} rows`;
    case 'table-finished':
      return `${where}: done${progress.message ? ` (stopped: ${progress.message})` : ''}`;
    default:
      return undefined;
  }
}

/** Asks on a terminal; without one, only --yes lets a destructive command go on. */
async function confirmed(question: string, yes: boolean | undefined): Promise<boolean> {
  if (yes) return true;
  if (!process.stdin.isTTY || !process.stderr.isTTY) return false;
  return (await askToType(question, 'prune')) === 'confirmed';
}

export const registerRetentionCommands: CommandRegistrar = (program, context) => {
  const retention = program.command('retention').description('show or change how long each analytics table keeps its rows; list the last prune runs');

  retention
    .command('show')
    .description('the retention policy stored in the cluster, with defaults and the minimum each value may take')
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: { profile?: string; json?: boolean }) => {
      const entry = await context.withServices(options.profile, (services) => services.retention.policy());
      context.print(options.json, entry, () => formatPolicy(entry));
    });

  const set = retention
    .command('set')
    .description('change settings of the policy (audited); a retention shorter than the next level\'s rollup lag is refused and nothing changes')
    .addOption(profileOption())
    .addOption(jsonOption());
  for (const setting of SETTINGS) set.addOption(new Option(`--${setting.flag} <n>`, setting.help).argParser(parseWholeNumber(setting.flag)));
  set.action(async (options: Record<string, unknown> & { profile?: string; json?: boolean }) => {
    const request: RetentionSetRequest = {};
    for (const setting of SETTINGS) {
      const value = options[setting.key];
      if (typeof value === 'number') request[setting.key] = value;
    }
    if (Object.keys(request).length === 0) throw new StrataError(ErrorCode.RetentionInvalid, `give at least one setting to change: ${SETTINGS.map((setting) => `--${setting.flag}`).join(', ')}`);
    const entry = await context.withServices(options.profile, (services) => services.retention.setPolicy(request));
    context.print(options.json, entry, () => formatPolicy(entry));
  });

  retention
    .command('runs')
    .description('the latest prune and partition maintenance runs, newest first')
    .addOption(profileOption())
    .addOption(jsonOption())
    .addOption(new Option('--limit <n>', 'how many runs').default(20).argParser(parseWholeNumber('limit')))
    .action(async (options: { profile?: string; json?: boolean; limit: number }) => {
      const history = await context.withServices(options.profile, (services) => services.retention.runHistory(options.limit));
      context.print(options.json, history.runs, () => formatRuns(history.runs));
      reportPartial(context, 'the run history', history.unreadShards);
    });

  program
    .command('prune')
    .description('drop expired partitions and delete expired rows in bounded batches; never what the next level has not rolled up or does not reconcile')
    .addOption(new Option('--dry-run', 'show per shard and table what would go (partitions, rows, bytes) and what is kept back; change nothing'))
    .addOption(new Option('--tables <list>', 'only these tables: raw, hourly, daily, monthly (or full names)').argParser(parseTableList))
    .addOption(new Option('--shards <list>', 'only these shard indexes, such as 0,2').argParser(parseShardList))
    .addOption(new Option('--yes', 'do not ask for confirmation (needed without a terminal)'))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: { dryRun?: boolean; tables?: RetentionTable[]; shards?: number[]; yes?: boolean; profile?: string; json?: boolean }) => {
      await context.withServices(options.profile, async (services) => {
        const request = { tables: options.tables, shards: options.shards };
        const plan = await services.retention.plan(request);
        if (options.dryRun || plan.totals.rows + plan.totals.partitions === 0) {
          context.print(options.json, plan, () => formatPruneReport(plan, { nothingToDo: !options.dryRun }));
          context.setExitCode(plan.ok ? 0 : 1);
          reportPartial(context, options.dryRun ? 'the dry run' : 'the prune', plan.shards.filter((shard) => !shard.reachable || shard.problem).map((shard) => ({ shardName: shard.name, problem: shard.problem })));
          return;
        }
        if (!options.json) process.stderr.write(`${formatPruneReport(plan)}\n`);
        const question = `Remove ${formatCount(plan.totals.rows)} rows (${plan.totals.partitions} partitions, ${formatBytes(plan.totals.bytes)}) from ${plan.shards.length} shard${plan.shards.length === 1 ? '' : 's'}?`;
        if (!(await confirmed(question, options.yes))) {
          process.stderr.write('not pruned: confirm on a terminal, or pass --yes\n');
          context.setExitCode(EXIT_NOT_CONFIRMED);
          return;
        }
        const controller = new AbortController();
        const onInterrupt = () => controller.abort();
        process.on('SIGINT', onInterrupt);
        try {
          const report = await services.retention.prune({
            ...request,
            trigger: 'manual',
            signal: controller.signal,
            onProgress: (progress) => {
              const line = options.json ? undefined : progressLine(progress);
              if (line) process.stderr.write(`${line}\n`);
            },
          });
          context.print(options.json, report, () => formatPruneReport(report));
          context.setExitCode(controller.signal.aborted ? EXIT_CANCELLED : report.ok ? 0 : 1);
        } finally {
          process.off('SIGINT', onInterrupt);
        }
      });
    });
};
