import { SingleBar } from 'cli-progress';
import { Option, type Command } from 'commander';
import type { BackfillPlan, BackfillProgress, BackfillRecord, BackfillWindowResult } from '../../shared/backfill';
import { ErrorCode, StrataError } from '../../shared/errors';
import { ROLLUP_LEVELS, rollupLevelSchema, type RollupLevel } from '../../shared/rollup';
import type { BackfillOutcome, BackfillRun } from '../../main/backfill/service';
import type { StrataServices } from '../../main/services';
import { EXIT_CANCELLED, formatCount, parseUtcOption, shortTime } from '../input';
import { jsonOption, profileOption, reportPartial, type CliContext, type CommandRegistrar } from '../context';
import { parseShardList } from './schema';

interface BackfillOptions {
  level?: string;
  from?: string;
  to?: string;
  shards?: number[];
  dryRun?: boolean;
  cascade?: boolean;
  resume?: string;
  profile?: string;
  json?: boolean;
}

function invalid(message: string): never {
  throw new StrataError(ErrorCode.BackfillInvalid, message);
}

/** What the options ask for, checked before the profile is read: a new backfill, or the id of one to resume. */
export function parseBackfillOptions(options: BackfillOptions): { resume: number } | { level: RollupLevel; from: Date; to: Date } {
  if (options.resume !== undefined) {
    if (!/^\d+$/.test(options.resume) || Number(options.resume) < 1) invalid(`--resume takes a backfill id (a positive whole number), got '${options.resume}'`);
    if (options.level || options.from || options.to || options.shards || options.cascade || options.dryRun) {
      invalid('--resume continues a stored backfill with its own level, range, shards and cascade; give no other options');
    }
    return { resume: Number(options.resume) };
  }
  const level = rollupLevelSchema.safeParse(options.level);
  if (!level.success) invalid(`--level must be one of ${ROLLUP_LEVELS.join(', ')}, got '${options.level ?? ''}'`);
  if (options.from === undefined || options.to === undefined) invalid('--from and --to are both required: the range to backfill');
  const from = parseUtcOption('from', options.from, ErrorCode.BackfillInvalid);
  const to = parseUtcOption('to', options.to, ErrorCode.BackfillInvalid);
  if (from >= to) invalid(`--from (${from.toISOString()}) must be before --to (${to.toISOString()})`);
  return { level: level.data, from, to };
}

export function formatDurationMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(ms / 3_600_000)} h ${Math.round((ms % 3_600_000) / 60_000)} min`;
}

export function formatBackfillPlan(plan: BackfillPlan): string {
  const lines = [`backfill ${plan.level} ${plan.from} → ${plan.to} on shards ${plan.shards.join(',')}${plan.cascade ? ' with cascade' : ''}: ${plan.windows.length} windows`];
  for (const window of plan.windows) {
    lines.push(
      `  ${window.level.padEnd(8)} ${shortTime(window.windowStart)} → ${shortTime(window.windowEnd)}  ${window.kind.padEnd(8)}  source rows ~${formatCount(window.estimatedSourceRows)}  ~${formatDurationMs(window.estimatedMs)}`,
    );
  }
  lines.push(`estimated ${formatCount(plan.estimatedSourceRows)} source rows, ${formatDurationMs(plan.estimatedMs)}`);
  for (const estimate of Object.values(plan.estimates)) lines.push(`  time estimate ${estimate.note}`);
  for (const problem of plan.problems) lines.push(`shard ${problem.shard} DOWN: ${problem.message}`);
  for (const range of plan.refused) lines.push(`REFUSED ${range.level} ${shortTime(range.from)} → ${shortTime(range.to)}: ${range.message}`);
  return lines.join('\n');
}

function windowLine(window: BackfillWindowResult): string {
  const skipped = window.skippedShards.length > 0 ? `  skipped shards ${window.skippedShards.join(',')} (source not complete yet)` : '';
  return `  ${window.level.padEnd(8)} ${shortTime(window.windowStart)} → ${shortTime(window.windowEnd)}  ${window.outcome}  read ${formatCount(window.rowsRead)}  wrote ${formatCount(window.rowsWritten)}${skipped}${window.error ? `  ${window.error}` : ''}`;
}

export function formatBackfillOutcome(outcome: BackfillOutcome): string {
  const { record } = outcome;
  const lines = outcome.windows.map(windowLine);
  lines.push(`backfill ${record.id} ${record.state}: ${record.windowsDone}/${record.windowsTotal} windows, read ${formatCount(record.rowsRead)}, wrote ${formatCount(record.rowsWritten)}`);
  if (record.error) lines.push(`  ${record.error}`);
  if (record.state !== 'done') lines.push(`  continue with: strata backfill --resume ${record.id}`);
  return lines.join('\n');
}

/** The end of `backfill cancel`: cancelled, still winding down on its host, or finished before the cancel took effect. */
export function formatCancelResult(record: BackfillRecord): string {
  if (record.state === 'cancelled') {
    return [`backfill ${record.id} cancelled: ${record.windowsDone}/${record.windowsTotal} windows done`, ...(record.error ? [`  ${record.error}`] : []), `  continue with: strata backfill --resume ${record.id}`].join('\n');
  }
  if (record.state === 'cancelling') {
    return `backfill ${record.id}: cancel requested, but ${record.host} (pid ${record.pid}) is still rolling back its window; strata backfill list shows when it has stopped`;
  }
  return `backfill ${record.id} is ${record.state}: it ended before the cancel took effect${record.error ? ` (${record.error})` : ''}`;
}

export function formatBackfillList(records: BackfillRecord[]): string {
  if (records.length === 0) return 'no backfills yet';
  const header = ['ID', 'STATE', 'LEVEL', 'FROM', 'TO', 'SHARDS', 'CASCADE', 'WINDOWS', 'NEXT', 'BY', 'HOST', 'UPDATED', 'ERROR'];
  const rows = records.map((record) => [
    String(record.id),
    record.state,
    record.level,
    shortTime(record.from),
    shortTime(record.to),
    record.shards.join(','),
    record.cascade ? 'yes' : 'no',
    `${record.windowsDone}/${record.windowsTotal}`,
    record.nextWindowStart ? `${record.nextWindowLevel} ${shortTime(record.nextWindowStart)}` : '-',
    record.createdBy,
    `${record.host}:${record.pid}`,
    record.updatedAt.replace(/\.\d{3}Z$/, 'Z'),
    record.error ?? '',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  return [header, ...rows].map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ').trimEnd()).join('\n');
}

/** A progress bar on stderr when a person is watching; one line per window when stderr is not a terminal. */
function progressDisplay(mode: 'bar' | 'none'): { update(progress: BackfillProgress): void; stop(): void } {
  if (mode === 'none') return { update() {}, stop() {} };
  const bar = new SingleBar({ format: 'backfill [{bar}] {value}/{total} windows | {window} | {rows} rows | ETA {remaining}', hideCursor: true, clearOnComplete: true });
  let started = false;
  return {
    update(progress) {
      const payload = {
        window: progress.window ? `${progress.window.level} ${shortTime(progress.window.windowStart)}` : '',
        rows: formatCount(progress.rowsRead),
        remaining: formatDurationMs(progress.estimatedRemainingMs),
      };
      if (!started) {
        bar.start(progress.windowsTotal, progress.windowsDone, payload);
        started = true;
      } else {
        bar.update(progress.windowsDone, payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/** The exit code after SIGTERM stopped a backfill (128 + 15, as a shell reports a process SIGTERM ended). */
const EXIT_TERMINATED = 143;

/** How a backfill this CLI ran ended, and the signal that stopped it, if one did. */
interface RunEnd {
  outcome: BackfillOutcome;
  stoppedBy?: NodeJS.Signals;
}

const exitCodeOf = (signal: NodeJS.Signals | undefined) => (signal === 'SIGTERM' ? EXIT_TERMINATED : EXIT_CANCELLED);

/**
 * Starts or resumes, shows progress until it ends, and turns Ctrl-C or SIGTERM into a cancel that rolls the current
 * window back (the backfill becomes cancelled and resumable). A second signal exits at once: the row then counts
 * as interrupted (this process is gone), still resumable, and the lease lapses on its own.
 */
async function runToEnd(services: StrataServices, begin: () => Promise<BackfillRun>, json: boolean | undefined): Promise<RunEnd> {
  const display = progressDisplay(!json && process.stderr.isTTY ? 'bar' : 'none');
  let backfillId: number | undefined;
  let stoppedBy: NodeJS.Signals | undefined;
  const cancel = () => {
    if (backfillId !== undefined) services.backfill.cancel(backfillId).catch(() => {});
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stoppedBy) {
      display.stop();
      process.exit(exitCodeOf(signal));
    }
    stoppedBy = signal;
    cancel();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const unsubscribe = services.backfill.onProgress((progress) => {
    if (progress.backfillId === backfillId) display.update(progress);
  });
  try {
    const run = await begin();
    backfillId = run.record.id;
    if (!json) process.stderr.write(`backfill ${backfillId}: ${run.record.windowsTotal - run.record.windowsDone} windows to go (Ctrl-C cancels; --resume ${backfillId} continues)\n`);
    if (stoppedBy) cancel();
    return { outcome: await run.finished, stoppedBy };
  } finally {
    display.stop();
    unsubscribe();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

function finish(context: CliContext, { outcome, stoppedBy }: RunEnd, json: boolean | undefined): void {
  context.print(json, outcome, () => formatBackfillOutcome(outcome));
  if (outcome.record.state === 'cancelled') context.setExitCode(exitCodeOf(stoppedBy));
  else if (outcome.record.state !== 'done') context.setExitCode(1);
}

export const registerBackfillCommand: CommandRegistrar = (program, context) => {
  const backfill = program
    .command('backfill')
    .description('recompute a range of rollup windows window by window (with --cascade, the days and months above them too); resumable')
    .addOption(new Option('--level <level>', 'hourly, daily or monthly'))
    .addOption(new Option('--from <iso>', 'start of the range, ISO-8601 UTC (the whole window holding it is included)'))
    .addOption(new Option('--to <iso>', 'end of the range (exclusive), ISO-8601 UTC'))
    .addOption(new Option('--shards <list>', 'only these shard indexes, such as 0,2').argParser(parseShardList))
    .addOption(new Option('--cascade', 're-roll the days covering changed hours and the months covering those days, where their source is complete'))
    .addOption(new Option('--dry-run', 'list the windows with estimated source rows and time, and the refused ranges; change nothing'))
    .addOption(new Option('--resume <id>', 'continue an interrupted, cancelled or failed backfill from its next window'))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: BackfillOptions) => {
      // Checked before the profile is even read: bad input never touches a shard.
      const parsed = parseBackfillOptions(options);
      await context.withServices(options.profile, async (services) => {
        if ('resume' in parsed) {
          finish(context, await runToEnd(services, () => services.backfill.resume(parsed.resume), options.json), options.json);
          return;
        }
        const request = { level: parsed.level, from: parsed.from.toISOString(), to: parsed.to.toISOString(), shards: options.shards, cascade: Boolean(options.cascade) };
        if (options.dryRun) {
          const plan = await services.backfill.plan(request);
          context.print(options.json, plan, () => formatBackfillPlan(plan));
          if (plan.refused.length > 0 || plan.problems.length > 0) context.setExitCode(1);
          reportPartial(context, 'the dry run', plan.problems.map(({ shard, code, message }) => ({ shardName: services.connections.shard(shard).label, problem: { code, message } })));
          return;
        }
        finish(context, await runToEnd(services, () => services.backfill.start(request), options.json), options.json);
      });
    });
  backfill
    .command('cancel')
    .description('cancel a backfill wherever it runs (its current window rolls back) and wait for it to stop; an interrupted one is just marked cancelled')
    .argument('<id>', 'the backfill id, as backfill list shows it')
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (idText: string, _options: unknown, command: Command) => {
      const all = command.optsWithGlobals<{ profile?: string; json?: boolean }>();
      if (!/^\d+$/.test(idText) || Number(idText) < 1) invalid(`cancel takes a backfill id (a positive whole number), got '${idText}'`);
      const record = await context.withServices(all.profile, (services) => services.backfill.cancel(Number(idText)));
      context.print(all.json, record, () => formatCancelResult(record));
      if (record.state !== 'cancelled') context.setExitCode(1);
    });
  backfill
    .command('list')
    .description('recent backfills, newest first: state, range, windows done, next window, who and where')
    .addOption(new Option('--limit <n>', 'how many (1-200)').default('20'))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: { limit: string }, command: Command) => {
      // --json and --profile may be given before `list`, where the parent command takes them.
      const all = command.optsWithGlobals<{ limit: string; profile?: string; json?: boolean }>();
      const limit = /^\d+$/.test(options.limit) ? Number(options.limit) : Number.NaN;
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > 200) invalid(`--limit must be a whole number from 1 to 200, got '${options.limit}'`);
      const records = await context.withServices(all.profile, (services) => services.backfill.list(limit));
      context.print(all.json, records, () => formatBackfillList(records));
    });
};
