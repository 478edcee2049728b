import { Option } from 'commander';
import { ErrorCode, StrataError } from '../../shared/errors';
import type { SchemaCheckReport } from '../../shared/contract';
import type { SchemaApplyEvent, SchemaApplyReport, ShardApplyResult } from '../../main/schema/service';
import { jsonOption, profileOption, reportPartial, type CommandRegistrar } from '../context';

/** `0,2` → [0, 2]; anything else is refused (one coded line, exit 2) before a connection is opened. */
export function parseShardList(value: string): number[] {
  if (!/^\d+(,\d+)*$/.test(value)) throw new StrataError(ErrorCode.InvalidInput, `--shards must be shard indexes separated by commas, such as 0,2; got '${value}'`);
  return [...new Set(value.split(',').map(Number))];
}

function applyLine(shard: ShardApplyResult): string {
  const name = shard.name.padEnd(10);
  const applied = shard.appliedVersions.join(', ');
  switch (shard.outcome) {
    case 'up-to-date':
      return `${name} up to date at v${shard.schemaVersion}`;
    case 'applied':
      return `${name} applied ${applied}; now at v${shard.schemaVersion}`;
    case 'failed':
      return `${name} FAILED${applied ? ` after applying ${applied}` : ''}: ${shard.problem?.message ?? 'unknown reason'}`;
  }
}

export function formatApplyReport(report: SchemaApplyReport): string {
  return report.shards.map(applyLine).join('\n');
}

export function formatCheckReport(report: SchemaCheckReport): string {
  return report.shards
    .map((shard) => {
      const name = shard.name.padEnd(10);
      if (!shard.reachable) return `${name} DOWN   ${shard.problem?.message ?? ''}`;
      const version = `v${shard.schemaVersion ?? '-'}`;
      if (shard.drift.length === 0) return `${name} clean  ${version}`;
      const count = `${shard.drift.length} difference${shard.drift.length > 1 ? 's' : ''}`;
      return `${name} DRIFT  ${version}  ${count}: ${shard.drift.map((drift) => drift.message).join('; ')}`;
    })
    .join('\n');
}

function progressLine(event: SchemaApplyEvent): string | undefined {
  if (event.kind === 'migration-started') return `${event.shardName}: applying migration ${event.version} (${event.name})…`;
  return undefined;
}

export const registerSchemaCommand: CommandRegistrar = (program, context) => {
  const schema = program.command('schema').description('versioned migrations and drift check of the Strata tables on every shard');

  schema
    .command('apply')
    .description('apply missing migrations on every shard (or the ones given), in parallel; exits 1 when any shard failed')
    .addOption(profileOption())
    .addOption(jsonOption())
    .addOption(new Option('--shards <list>', 'only these shard indexes, such as 0,2').argParser(parseShardList))
    .action(async (options: { profile?: string; json?: boolean; shards?: number[] }) => {
      const showProgress = !options.json && process.stderr.isTTY;
      const report = await context.withServices(options.profile, (services) =>
        services.schema.apply({
          shards: options.shards,
          onProgress: (event) => {
            const line = showProgress ? progressLine(event) : undefined;
            if (line) process.stderr.write(`${line}\n`);
          },
        }),
      );
      context.print(options.json, report, () => formatApplyReport(report));
      context.setExitCode(report.ok ? 0 : 1);
    });

  schema
    .command('check')
    .description('compare every shard with the expected schema and migration history; exits 1 on drift or an unreachable shard')
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: { profile?: string; json?: boolean }) => {
      const report = await context.withServices(options.profile, (services) => services.schema.check());
      context.print(options.json, report, () => formatCheckReport(report));
      context.setExitCode(report.clean ? 0 : 1);
      reportPartial(context, 'the schema check', report.shards.filter((shard) => !shard.reachable).map((shard) => ({ shardName: shard.name, problem: shard.problem })));
    });
};
