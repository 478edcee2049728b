import { Option } from 'commander';
import type { PartitionListReport, PartitionWarning } from '../../shared/partitions';
import type { PartitionApplyEvent, PartitionApplyReport, PartitionPlanReport, ShardPartitionApplyResult } from '../../main/partitions/service';
import { jsonOption, profileOption, type CommandRegistrar } from '../context';
import { formatCount } from '../input';
import { parseShardList } from './schema';

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

function progressLine(event: PartitionApplyEvent): string | undefined {
  if (event.kind === 'statement-started') return `${event.shardName}: [${event.position}/${event.total}] reorganising ${event.table}…`;
  if (event.kind === 'statement-finished') return `${event.shardName}: [${event.position}/${event.total}] ${event.table} ${event.ok ? 'done' : `FAILED: ${event.message}`}`;
  return undefined;
}

export const registerPartitionsCommand: CommandRegistrar = (program, context) => {
  const partitions = program.command('partitions').description('list the partitions of the analytics tables and add the future ones on every shard');

  partitions
    .command('list')
    .description('every partition per shard and table: range (UTC), rows, data and index size, and warnings')
    .addOption(profileOption())
    .addOption(jsonOption())
    .addOption(new Option('--exact', 'count rows with COUNT(*) per partition instead of the estimates'))
    .action(async (options: { profile?: string; json?: boolean; exact?: boolean }) => {
      const report = await context.withServices(options.profile, (services) => services.partitions.list({ exact: options.exact ?? false }));
      context.print(options.json, report, () => formatListReport(report));
      context.setExitCode(report.shards.every((shard) => shard.reachable) ? 0 : 1);
    });

  partitions
    .command('plan')
    .description('print the exact SQL that would add the missing future partitions, per shard; changes nothing')
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: { profile?: string; json?: boolean }) => {
      const report = await context.withServices(options.profile, (services) => services.partitions.plan());
      context.print(options.json, report, () => formatPlanReport(report));
      context.setExitCode(report.shards.every((shard) => shard.reachable) ? 0 : 1);
    });

  partitions
    .command('apply')
    .description('add the missing future partitions on every shard (or the ones given), in parallel; exits 1 when any shard failed')
    .addOption(profileOption())
    .addOption(jsonOption())
    .addOption(new Option('--shards <list>', 'only these shard indexes, such as 0,2').argParser(parseShardList))
    .action(async (options: { profile?: string; json?: boolean; shards?: number[] }) => {
      const report = await context.withServices(options.profile, (services) =>
        services.partitions.apply({
          shards: options.shards,
          onProgress: (event) => {
            const line = options.json ? undefined : progressLine(event);
            if (line) process.stderr.write(`${line}\n`);
          },
        }),
      );
      context.print(options.json, report, () => formatApplyReport(report));
      context.setExitCode(report.ok ? 0 : 1);
    });
};
