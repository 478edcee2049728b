import { Option } from 'commander';
import { ErrorCode, errorCodeName, StrataError } from '../../shared/errors';
import { ROLLUP_LEVELS, rollupLevelSchema, type RollupLevel, type RollupPlan, type RollupReport } from '../../shared/rollup';
import type { RollupProgress } from '../../main/rollup/service';
import { runUnderLease } from '../../main/lease/exclusive';
import { EXIT_CANCELLED, formatCount, parseUtcOption, shortTime } from '../input';
import { jsonOption, profileOption, reportPartial, type CommandRegistrar } from '../context';
import { parseShardList } from './schema';

interface RollupOptions {
  level?: string;
  from?: string;
  to?: string;
  shards?: number[];
  dryRun?: boolean;
  profile?: string;
  json?: boolean;
}

function invalid(message: string): never {
  throw new StrataError(ErrorCode.RollupInvalid, message);
}

/** Checks the options that need no cluster: level, and a complete, ordered range. */
export function parseRollupOptions(options: RollupOptions): { level: RollupLevel; range?: { from: Date; to: Date } } {
  const level = rollupLevelSchema.safeParse(options.level);
  if (!level.success) invalid(`--level must be one of ${ROLLUP_LEVELS.join(', ')}, got '${options.level ?? ''}'`);
  if ((options.from === undefined) !== (options.to === undefined)) invalid('--from and --to go together: give both for a range, or neither for the due windows');
  if (options.from === undefined || options.to === undefined) return { level: level.data };
  const from = parseUtcOption('from', options.from, ErrorCode.RollupInvalid);
  const to = parseUtcOption('to', options.to, ErrorCode.RollupInvalid);
  if (from >= to) invalid(`--from (${from.toISOString()}) must be before --to (${to.toISOString()})`);
  return { level: level.data, range: { from, to } };
}

/** Where the shard's watermark went: its move, the one it kept, or that it could not be read. */
function watermarkText(shard: RollupReport['shards'][number]): string {
  if (shard.watermarkRead === false) return 'unknown (not read)';
  if (shard.watermarkBefore && shard.watermarkBefore === shard.watermarkAfter) return `${shortTime(shard.watermarkBefore)} (unchanged)`;
  return `${shard.watermarkBefore ?? 'none'} → ${shard.watermarkAfter ?? 'none'}`;
}

export function formatRollupReport(report: RollupReport): string {
  const lines: string[] = [];
  for (const shard of report.shards) {
    const name = shard.shardName.padEnd(10);
    for (const window of shard.windows) {
      const effect = window.watermark === 'advanced' ? '  watermark advanced' : '';
      const problem = window.error ? `  ${window.code ? `error ${window.code} (${errorCodeName(window.code)}): ` : ''}${window.error}` : '';
      lines.push(
        `${name} ${shortTime(window.windowStart)} → ${shortTime(window.windowEnd)}  ${window.outcome.toUpperCase() === 'OK' ? 'ok' : window.outcome.toUpperCase()}` +
          `  read ${formatCount(window.rowsRead)}  wrote ${formatCount(window.rowsWritten)}  ${(window.durationMs / 1000).toFixed(2)} s${effect}${problem}`,
      );
    }
    if (shard.windows.length === 0 && !shard.problem) lines.push(`${name} nothing due`);
    if (shard.problem) lines.push(`${name} FAILED: ${shard.problem.message}`);
    lines.push(`${name} watermark ${watermarkText(shard)}`);
  }
  lines.push(`${report.ok ? 'ok' : 'NOT OK'}: ${report.level} rollup, run ${report.runId}`);
  return lines.join('\n');
}

export function formatRollupPlan(plan: RollupPlan): string {
  const lines: string[] = [];
  for (const shard of plan.shards) {
    const name = shard.shardName.padEnd(10);
    if (shard.problem) {
      lines.push(`${name} DOWN: ${shard.problem.message}`);
      continue;
    }
    lines.push(`${name} watermark ${shard.watermark ?? 'none'}, ${shard.windows.length} window${shard.windows.length === 1 ? '' : 's'}`);
    for (const window of shard.windows) {
      const rows = window.estimatedSourceRows === null ? 'unknown' : `~${formatCount(window.estimatedSourceRows)}`;
      lines.push(`${name} ${shortTime(window.windowStart)} → ${shortTime(window.windowEnd)}  ${window.reason.padEnd(8)}  source rows ${rows}`);
    }
  }
  return lines.join('\n');
}

function progressLine(event: RollupProgress): string | undefined {
  if (event.kind !== 'window-finished' || !event.result) return undefined;
  return `${event.shardName}: ${event.level} ${shortTime(event.windowStart)} ${event.result.outcome} (${event.position}/${event.windowCount})`;
}

/** Builds the command with a fencing-token source, so the lease can be plugged in without touching the rest. */
export function createRollupCommand(): CommandRegistrar {
  return (program, context) => {
    program
      .command('rollup')
      .description('roll raw page views up into hourly, daily or monthly rows: the due windows, or exactly the windows covering --from/--to')
      .addOption(new Option('--level <level>', `hourly, daily or monthly`))
      .addOption(new Option('--from <iso>', 'start of a range to recompute, ISO-8601 UTC (the whole window holding it is included)'))
      .addOption(new Option('--to <iso>', 'end of the range (exclusive), ISO-8601 UTC'))
      .addOption(new Option('--shards <list>', 'only these shard indexes, such as 0,2').argParser(parseShardList))
      .addOption(new Option('--dry-run', 'print the windows that would run, with estimated source rows, and change nothing'))
      .addOption(profileOption())
      .addOption(jsonOption())
      .action(async (options: RollupOptions) => {
        // Checked before the profile is even read: bad input never touches a shard.
        const { level, range } = parseRollupOptions(options);
        if (options.dryRun) {
          const plan = await context.withServices(options.profile, (services) => services.rollup.plan(level, range ?? 'due', { shards: options.shards }));
          context.print(options.json, plan, () => formatRollupPlan(plan));
          reportPartial(context, 'the dry run', plan.shards.filter((shard) => shard.problem));
          return;
        }
        const showProgress = !options.json && Boolean(process.stderr.isTTY);
        const cancel = new AbortController();
        const onInterrupt = () => cancel.abort();
        process.once('SIGINT', onInterrupt);
        let report: RollupReport;
        try {
          report = await context.withServices(options.profile, (services) =>
            // Due windows move watermarks, so they need the lease; a range can recompute history beside a running agent.
            runUnderLease(services.lease, context.logger.scope('rollup'), range ? 'run-without-token' : 'refuse', (fencingToken, signal) => {
              const runOptions = {
                shards: options.shards,
                trigger: 'manual' as const,
                fencingToken,
                signal,
                onProgress: (event: RollupProgress) => {
                  const line = showProgress ? progressLine(event) : undefined;
                  if (line) process.stderr.write(`${line}\n`);
                },
              };
              return range ? services.rollup.runRange(level, range.from, range.to, runOptions) : services.rollup.runDue(level, runOptions);
            }, cancel.signal),
          );
        } finally {
          process.removeListener('SIGINT', onInterrupt);
        }
        context.print(options.json, report, () => formatRollupReport(report));
        if (cancel.signal.aborted) context.setExitCode(EXIT_CANCELLED);
        else if (!report.ok) context.setExitCode(1);
      });
  };
}

export const registerRollupCommand: CommandRegistrar = createRollupCommand();
