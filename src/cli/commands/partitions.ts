import { MultiBar, type SingleBar } from 'cli-progress';
import { Option } from 'commander';
import { ErrorCode, StrataError, errorCodeName } from '../../shared/errors';
import type { ConversionEvent, ConversionPlanReport, ConversionReport, PartitionListReport, PartitionWarning, ShardConversionResult } from '../../shared/partitions';
import { describeSeconds, requireManagedTable } from '../../main/partitions/convert-planner';
import { validateHistoryRange, validateKeepAhead, type KeepAhead } from '../../main/partitions/planner';
import type { PartitionApplyEvent, PartitionApplyReport, PartitionPlanReport, ShardPartitionApplyResult } from '../../main/partitions/service';
import type { StrataServices } from '../../main/services';
import { jsonOption, profileOption, reportPartial, type CliContext, type CommandRegistrar } from '../context';
import { EXIT_CANCELLED, askToType, formatCount, parseUtcOption } from '../input';
import { parseShardList } from './schema';

/** The shards of a per-shard report that could not be read, as reportPartial names them. */
const unreachable = (shards: ReadonlyArray<{ name: string; reachable: boolean; problem?: { code: number; message: string } }>) =>
  shards.filter((shard) => !shard.reachable).map((shard) => ({ shardName: shard.name, problem: shard.problem }));

const rangeTime = (iso: string | null, open: string) => (iso === null ? open : iso.replace(':00:00.000Z', 'Z').replace('T00Z', ''));

function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

const warningLines = (warnings: PartitionWarning[]) => warnings.map((warning) => `  WARNING ${warning.message}`);

export function formatListReport(report: PartitionListReport): string {
  const lines: string[] = [];
  for (const shard of report.shards) {
    if (!shard.reachable) {
      lines.push(`${shard.name} DOWN ${shard.problem?.message ?? ''}`);
      continue;
    }
    lines.push(shard.name);
    for (const table of shard.tables) {
      lines.push(`  ${table.table}: ${table.partitions.length} partitions`);
      for (const partition of table.partitions) {
        const range = `${rangeTime(partition.from, '…')} → ${rangeTime(partition.to, 'MAXVALUE')}`;
        const rows = `${report.exact ? '' : '~'}${formatCount(partition.rows)} rows`;
        lines.push(`    ${partition.name.padEnd(12)} ${range.padEnd(40)} ${rows.padStart(14)}  ${formatBytes(partition.dataBytes)} data, ${formatBytes(partition.indexBytes)} index`);
      }
      lines.push(...warningLines(table.warnings));
    }
  }
  return lines.join('\n');
}

export function formatPlanReport(report: PartitionPlanReport): string {
  const lines: string[] = [];
  for (const shard of report.shards) {
    if (!shard.reachable) {
      lines.push(`-- ${shard.name}: DOWN ${shard.problem?.message ?? ''}`);
      continue;
    }
    const statements = shard.tables.flatMap((table) => table.statements);
    lines.push(`-- ${shard.name}: ${statements.length === 0 ? 'nothing to add' : `${statements.length} statement${statements.length === 1 ? '' : 's'}`}`);
    for (const table of shard.tables) {
      lines.push(...table.warnings.map((warning) => `-- WARNING ${warning.message}`));
      lines.push(...table.statements.map((sql) => `${sql};`));
    }
  }
  return lines.join('\n');
}

function applyLine(shard: ShardPartitionApplyResult): string {
  const name = shard.name.padEnd(10);
  const done = shard.statements.filter((statement) => statement.ok).map((statement) => statement.table);
  switch (shard.outcome) {
    case 'up-to-date':
      return `${name} up to date`;
    case 'applied':
      return `${name} added partitions to ${done.join(', ')}`;
    case 'failed': {
      const failures = shard.statements.filter((statement) => !statement.ok).map((statement) => statement.problem?.message ?? statement.table);
      const reasons = shard.problem ? [shard.problem.message, ...failures] : failures;
      return `${name} FAILED${done.length ? ` (added partitions to ${done.join(', ')})` : ''}: ${reasons.join('; ')}`;
    }
    case 'blocked':
      return `${name} SKIPPED: ${shard.problem?.message ?? 'another job holds this shard'}`;
  }
}

export function formatApplyReport(report: PartitionApplyReport): string {
  return report.shards.map(applyLine).join('\n');
}

/** `--table T --days N` (or `--months N`) into a change, checked before any shard is touched; none for a listing. */
export function parseKeepAheadChange(options: { table?: string; days?: string; months?: string }): { table: string; keep: KeepAhead } | undefined {
  if (options.table === undefined && options.days === undefined && options.months === undefined) return undefined;
  if (!options.table || (options.days === undefined) === (options.months === undefined)) {
    throw new StrataError(ErrorCode.PartitionOptionsInvalid, 'give --table with either --days or --months, such as --table analytics_daily --months 6');
  }
  const text = options.days ?? options.months ?? '';
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new StrataError(ErrorCode.PartitionOptionsInvalid, `keep-ahead must be a whole number of at least 1, got '${text}'`);
  const keep: KeepAhead = options.days !== undefined ? { days: Number(text) } : { months: Number(text) };
  validateKeepAhead({ [options.table]: keep });
  return { table: options.table, keep };
}

function progressLine(event: PartitionApplyEvent): string | undefined {
  if (event.kind === 'statement-started') return `${event.shardName}: [${event.position}/${event.total}] reorganising ${event.table}…`;
  if (event.kind === 'statement-finished') return `${event.shardName}: [${event.position}/${event.total}] ${event.table} ${event.ok ? 'done' : `FAILED: ${event.message}`}`;
  return undefined;
}

const shortIso = (iso: string) => iso.replace(/(:00)?\.000Z$/, 'Z');

/** The plan as SQL a DBA can read or pipe to a client: facts and warnings as comments, then the statement. */
export function formatConversionPlan(report: ConversionPlanReport): string {
  const lines: string[] = [];
  for (const shard of report.shards) {
    const plan = shard.plan;
    if (!shard.reachable || !plan) {
      lines.push(`-- ${shard.name}: DOWN ${shard.problem?.message ?? ''}`);
      continue;
    }
    if (plan.action === 'already-partitioned') {
      lines.push(`-- ${shard.name}: ${plan.table} is already partitioned; nothing to do`);
      continue;
    }
    if (plan.action === 'refused') {
      lines.push(`-- ${shard.name}: REFUSED ${plan.problem?.message ?? plan.table}`);
      continue;
    }
    const size = `${formatBytes(plan.dataBytes + plan.indexBytes)} (${formatBytes(plan.dataBytes)} data, ${formatBytes(plan.indexBytes)} index)`;
    lines.push(`-- ${shard.name}: convert ${plan.table}: ~${formatCount(plan.estimatedRows)} rows, ${size}, estimated time about ${describeSeconds(plan.estimatedSeconds)}`);
    const names = plan.partitions.map((partition) => partition.name);
    const oldest = plan.oldestRow ? `oldest row ${shortIso(plan.oldestRow)}` : 'no rows';
    lines.push(`-- ${oldest}; ${names.length} partitions: ${names[0]} … ${names.at(-2)}, ${names.at(-1)}, by ${plan.expression}`);
    if (plan.primaryKeyAfter.join() !== plan.primaryKeyBefore.join()) lines.push(`-- primary key (${plan.primaryKeyBefore.join(', ')}) → (${plan.primaryKeyAfter.join(', ')})`);
    lines.push(...plan.warnings.map((warning) => `-- WARNING ${warning}`));
    if (plan.statement) lines.push(`${plan.statement};`);
  }
  return lines.join('\n');
}

function conversionLine(shard: ShardConversionResult): string {
  const name = shard.name.padEnd(10);
  const rows = `${shard.rowsBefore === null ? '-' : formatCount(shard.rowsBefore)} rows before, ${shard.rowsAfter === null ? '-' : formatCount(shard.rowsAfter)} after`;
  switch (shard.outcome) {
    case 'converted':
      return `${name} converted: ${rows}, in ${describeSeconds(Math.round(shard.elapsedMs / 1000))}`;
    case 'already-partitioned':
      return `${name} already partitioned; nothing to do`;
    case 'refused':
      return `${name} REFUSED: ${shard.problem?.message ?? ''}`;
    case 'blocked':
      return `${name} SKIPPED: ${shard.problem?.message ?? 'another job holds this shard'}`;
    case 'cancelled':
      return `${name} CANCELLED (${rows}): ${shard.problem?.message ?? ''}`;
    case 'failed':
      return `${name} FAILED${shard.rowsBefore === null ? '' : ` (${rows})`}: ${shard.problem?.message ?? 'unknown reason'}`;
  }
}

export function formatConversionReport(report: ConversionReport): string {
  return report.shards.map(conversionLine).join('\n');
}

/** One bar per shard on a terminal; a line when a shard starts and ends otherwise; nothing with --json. */
function conversionDisplay(mode: 'bars' | 'lines' | 'none'): { update(event: ConversionEvent): void; stop(): void } {
  if (mode === 'none') return { update() {}, stop() {} };
  if (mode === 'lines') {
    return {
      update(event) {
        if (event.kind === 'shard-started') process.stderr.write(`${event.shardName}: converting ${event.table}, ${formatCount(event.rowsBefore)} rows, about ${describeSeconds(event.estimatedSeconds)}…\n`);
        if (event.kind === 'shard-finished') process.stderr.write(`${event.shardName}: ${event.result.outcome}\n`);
      },
      stop() {},
    };
  }
  const multi = new MultiBar({ format: '{shard} [{bar}] {percentage}% | {stage} | {duration_formatted} of about {estimate}', hideCursor: true, clearOnComplete: false, stream: process.stderr });
  const bars = new Map<number, SingleBar>();
  return {
    update(event) {
      if (event.kind === 'shard-started') {
        bars.set(event.shard, multi.create(100, 0, { shard: event.shardName.padEnd(10), stage: 'starting', estimate: describeSeconds(event.estimatedSeconds) }));
      } else if (event.kind === 'progress') {
        bars.get(event.shard)?.update(Math.floor(event.percent ?? 0), { stage: event.stage ?? '' });
      } else if (event.result.outcome === 'converted') {
        bars.get(event.shard)?.update(100, { stage: 'converted' });
      } else {
        bars.get(event.shard)?.update({ stage: event.result.outcome });
      }
    },
    stop() {
      multi.stop();
    },
  };
}

interface ConvertOptions {
  table: string;
  shards?: number[];
  dryRun?: boolean;
  yes?: boolean;
  profile?: string;
  json?: boolean;
}

/** A refusal after the plan: with --json it still carries the plan, so a script sees what would have run. */
function refuseConversion(context: CliContext, options: ConvertOptions, plan: ConversionPlanReport, code: number, message: string, exitCode: number): void {
  if (options.json) context.print(true, { ok: false, code, message, plan }, () => '');
  process.stderr.write(`strata: error ${code} (${errorCodeName(code)}): ${message}\n`);
  context.setExitCode(exitCode);
}

async function runConversion(context: CliContext, services: StrataServices, options: ConvertOptions): Promise<void> {
  const plan = await services.conversion.plan({ table: options.table, shards: options.shards });
  const settled = plan.shards.every((shard) => shard.reachable && shard.plan?.action !== 'refused');
  if (options.dryRun) {
    context.print(options.json, plan, () => formatConversionPlan(plan));
    context.setExitCode(settled ? 0 : 1);
    reportPartial(context, 'the dry run', unreachable(plan.shards));
    return;
  }
  if (!options.json) process.stdout.write(`${formatConversionPlan(plan)}\n`);
  const targets = plan.shards.filter((shard) => shard.plan?.action === 'convert');
  if (targets.length === 0) {
    if (options.json) context.print(true, { plan, result: null }, () => '');
    else process.stdout.write('nothing to convert\n');
    context.setExitCode(settled ? 0 : 1);
    return;
  }
  const names = targets.map((shard) => shard.name);
  if (!options.yes) {
    if (!process.stdin.isTTY) {
      const message = `converting ${options.table} rewrites it on ${names.join(', ')} and needs confirmation: pass --yes (or run it on a terminal and type the table name); nothing was changed`;
      refuseConversion(context, options, plan, ErrorCode.ConversionRefused, message, 2);
      return;
    }
    const answer = await askToType(`This rewrites ${options.table} on ${names.join(', ')}.`, options.table);
    if (answer !== 'confirmed') {
      const message = answer === 'interrupted' ? 'interrupted; nothing was changed' : `the name typed was not ${options.table}; nothing was changed`;
      refuseConversion(context, options, plan, answer === 'interrupted' ? ErrorCode.Cancelled : ErrorCode.ConversionRefused, message, answer === 'interrupted' ? EXIT_CANCELLED : 2);
      return;
    }
  }
  // Only the shards whose plan was shown and confirmed; one that was down may have come back with another state.
  const display = conversionDisplay(options.json ? 'none' : process.stderr.isTTY ? 'bars' : 'lines');
  const cancel = new AbortController();
  const onInterrupt = () => cancel.abort();
  process.once('SIGINT', onInterrupt);
  let result: ConversionReport;
  try {
    result = await services.conversion.convert({ table: options.table, shards: targets.map((shard) => shard.index), signal: cancel.signal, onProgress: (event) => display.update(event) });
  } finally {
    display.stop();
    process.removeListener('SIGINT', onInterrupt);
  }
  context.print(options.json, { plan, result }, () => formatConversionReport(result));
  if (cancel.signal.aborted) context.setExitCode(EXIT_CANCELLED);
  else context.setExitCode(result.ok && settled ? 0 : 1);
}

/** Runs partition DDL with one progress line per statement on stderr, then prints the report; exit 1 when any shard failed. */
async function applyWithProgress(
  context: CliContext,
  json: boolean | undefined,
  run: (onProgress: (event: PartitionApplyEvent) => void) => Promise<PartitionApplyReport>,
): Promise<void> {
  const report = await run((event) => {
    const line = json ? undefined : progressLine(event);
    if (line) process.stderr.write(`${line}\n`);
  });
  context.print(json, report, () => formatApplyReport(report));
  context.setExitCode(report.ok ? 0 : 1);
}

export const registerPartitionsCommand: CommandRegistrar = (program, context) => {
  const partitions = program.command('partitions').description('list the partitions of the analytics tables and add the future ones on every shard');

  partitions
    .command('add-history')
    .description('add partitions below the first one for older history (before importing it): one per period of the range; an empty or overlapping range is refused and nothing changes')
    .requiredOption('--table <name>', 'the table')
    .requiredOption('--from <iso>', 'start of the history, ISO-8601 UTC')
    .requiredOption('--to <iso>', 'end (exclusive), ISO-8601 UTC; the partitions reach up to the first existing one')
    .addOption(new Option('--shards <list>', 'only these shard indexes, such as 0,2').argParser(parseShardList))
    .addOption(new Option('--dry-run', 'print the SQL per shard; change nothing'))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: { table: string; from: string; to: string; shards?: number[]; dryRun?: boolean; profile?: string; json?: boolean }) => {
      const request = {
        table: options.table,
        from: parseUtcOption('from', options.from, ErrorCode.PartitionOptionsInvalid),
        to: parseUtcOption('to', options.to, ErrorCode.PartitionOptionsInvalid),
        shards: options.shards,
      };
      validateHistoryRange(request.table, request.from, request.to);
      await context.withServices(options.profile, async (services) => {
        if (options.dryRun) {
          const plan = await services.partitions.planHistory(request);
          context.print(options.json, plan, () => formatPlanReport(plan));
          context.setExitCode(plan.shards.every((shard) => shard.reachable) ? 0 : 1);
          reportPartial(context, 'the dry run', unreachable(plan.shards));
          return;
        }
        await applyWithProgress(context, options.json, (onProgress) => services.partitions.addHistory({ ...request, onProgress }));
      });
    });

  partitions
    .command('ahead')
    .description('how far ahead each table keeps partitions (stored in the cluster); with --table and --days or --months, change one (audited)')
    .addOption(new Option('--table <name>', 'the table to change'))
    .addOption(new Option('--days <n>', 'keep this many days of partitions ahead').conflicts('months'))
    .addOption(new Option('--months <n>', 'keep this many months of partitions ahead'))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: { table?: string; days?: string; months?: string; profile?: string; json?: boolean }) => {
      const change = parseKeepAheadChange(options);
      const entries = await context.withServices(options.profile, async (services) => {
        const settings = services.partitions.settings;
        return change ? settings.set(change.table, change.keep) : settings.entries(await settings.stored());
      });
      context.print(options.json, entries, () => entries.map((entry) => `${entry.table.padEnd(20)} ${entry.description}${entry.isDefault ? ' (default)' : ''}`).join('\n'));
    });

  partitions
    .command('list')
    .description('every partition per shard and table: range (UTC), rows, data and index size, and warnings')
    .addOption(profileOption())
    .addOption(jsonOption())
    .addOption(new Option('--exact', 'count rows with COUNT(*) per partition instead of the estimates'))
    .addOption(new Option('--shards <list>', 'only these shard indexes, such as 0,2').argParser(parseShardList))
    .action(async (options: { profile?: string; json?: boolean; exact?: boolean; shards?: number[] }) => {
      const report = await context.withServices(options.profile, (services) => services.partitions.list({ exact: options.exact ?? false, shards: options.shards }));
      context.print(options.json, report, () => formatListReport(report));
      context.setExitCode(report.shards.every((shard) => shard.reachable) ? 0 : 1);
      reportPartial(context, 'the partition list', unreachable(report.shards));
    });

  partitions
    .command('plan')
    .description('print the exact SQL that would add the missing future partitions, per shard; changes nothing')
    .addOption(profileOption())
    .addOption(jsonOption())
    .addOption(new Option('--shards <list>', 'only these shard indexes, such as 0,2').argParser(parseShardList))
    .action(async (options: { profile?: string; json?: boolean; shards?: number[] }) => {
      const report = await context.withServices(options.profile, (services) => services.partitions.plan({ shards: options.shards }));
      context.print(options.json, report, () => formatPlanReport(report));
      context.setExitCode(report.shards.every((shard) => shard.reachable) ? 0 : 1);
      reportPartial(context, 'the plan', unreachable(report.shards));
    });

  partitions
    .command('apply')
    .description('add the missing future partitions on every shard (or the ones given), in parallel; exits 1 when any shard failed')
    .addOption(profileOption())
    .addOption(jsonOption())
    .addOption(new Option('--shards <list>', 'only these shard indexes, such as 0,2').argParser(parseShardList))
    .action(async (options: { profile?: string; json?: boolean; shards?: number[] }) => {
      await context.withServices(options.profile, (services) => applyWithProgress(context, options.json, (onProgress) => services.partitions.apply({ shards: options.shards, onProgress })));
    });

  partitions
    .command('convert')
    .description('convert an unpartitioned analytics table (plain seed DDL) into Strata\'s partitions: prints size, estimated time, warnings and the exact ALTER per shard, then asks before running it')
    .addOption(new Option('--table <name>', 'analytics_realtime, analytics_hourly, analytics_daily or analytics_monthly').makeOptionMandatory())
    .addOption(new Option('--shards <list>', 'only these shard indexes, such as 0,2').argParser(parseShardList))
    .addOption(new Option('--dry-run', 'print the plan and change nothing'))
    .addOption(new Option('--yes', 'convert without asking to type the table name (needed without a terminal)'))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: ConvertOptions) => {
      // Checked before the profile is even read: an unmanaged table never touches a shard.
      requireManagedTable(options.table);
      await context.withServices(options.profile, (services) => runConversion(context, services, options));
    });
};
