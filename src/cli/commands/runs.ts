import { Option } from 'commander';
import { ErrorCode, StrataError } from '../../shared/errors';
import { ROLLUP_LEVELS, rollupLevelSchema, type RollupLevel, type RunRecord } from '../../shared/rollup';
import { jsonOption, profileOption, reportPartial, type CommandRegistrar } from '../context';

interface RunsOptions {
  limit: string;
  level?: string;
  profile?: string;
  json?: boolean;
}

const MAX_LIMIT = 1000;

export function parseRunsOptions(options: Pick<RunsOptions, 'limit' | 'level'>): { limit: number; level?: RollupLevel } {
  const limit = /^\d+$/.test(options.limit) ? Number(options.limit) : Number.NaN;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new StrataError(ErrorCode.RollupInvalid, `--limit must be a whole number from 1 to ${MAX_LIMIT}, got '${options.limit}'`);
  }
  if (options.level === undefined) return { limit };
  const level = rollupLevelSchema.safeParse(options.level);
  if (!level.success) throw new StrataError(ErrorCode.RollupInvalid, `--level must be one of ${ROLLUP_LEVELS.join(', ')}, got '${options.level}'`);
  return { limit, level: level.data };
}

export function formatRuns(runs: RunRecord[]): string {
  if (runs.length === 0) return 'no rollup runs recorded yet';
  const header = ['STARTED', 'SHARD', 'LEVEL', 'WINDOW START', 'TRIGGER', 'OUTCOME', 'READ', 'WRITTEN', 'MS', 'HOST', 'ERROR'];
  const rows = runs.map((run) => [
    run.startedAt.replace(/\.\d{3}Z$/, 'Z'),
    run.shardName,
    run.level,
    run.windowStart.replace(/:00\.000Z$/, 'Z'),
    run.trigger,
    run.outcome,
    String(run.rowsRead),
    String(run.rowsWritten),
    run.durationMs === null ? '-' : String(run.durationMs),
    run.host,
    run.error ?? '',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  return [header, ...rows].map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ').trimEnd()).join('\n');
}

export const registerRunsCommand: CommandRegistrar = (program, context) => {
  program
    .command('runs')
    .description('the latest rollup windows run on every shard, newest first: level, window, trigger, outcome, rows, duration, host')
    .addOption(new Option('--limit <n>', `how many (1-${MAX_LIMIT})`).default('20'))
    .addOption(new Option('--level <level>', 'only hourly, daily or monthly'))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: RunsOptions) => {
      const query = parseRunsOptions(options);
      const history = await context.withServices(options.profile, (services) => services.rollup.runHistory(query));
      // --json stays the list of runs it always was; the shards missing from it are named on stderr.
      context.print(options.json, history.runs, () => formatRuns(history.runs));
      reportPartial(context, 'the run history', history.unreadShards);
    });
};
