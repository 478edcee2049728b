import { Option } from 'commander';
import { ErrorCode, StrataError } from '../../shared/errors';
import type { ReconcileReport, ReconcileRequest } from '../../shared/reconcile';
import type { RollupLevel } from '../../shared/rollup';
import { EXIT_CANCELLED, formatCount, parseUtcOption, shortTime } from '../input';
import { jsonOption, profileOption, type CommandRegistrar } from '../context';

interface ReconcileOptions {
  from?: string;
  to?: string;
  shards?: string;
  dryRun?: boolean;
  profile?: string;
  json?: boolean;
}

const SOURCE_NAME: Record<RollupLevel, string> = { hourly: 'raw', daily: 'hourly', monthly: 'daily' };

function invalid(message: string): never {
  throw new StrataError(ErrorCode.ReconcileInvalid, message);
}

/** Checks every option that needs no cluster: a complete, ordered UTC range and a list of shard indexes. */
export function parseReconcileOptions(options: ReconcileOptions): ReconcileRequest {
  const request: ReconcileRequest = {};
  if ((options.from === undefined) !== (options.to === undefined)) invalid('--from and --to go together: give both for a range, or neither for everything retention holds');
  if (options.from !== undefined && options.to !== undefined) {
    const from = parseUtcOption('from', options.from, ErrorCode.ReconcileInvalid);
    const to = parseUtcOption('to', options.to, ErrorCode.ReconcileInvalid);
    if (from >= to) invalid(`--from (${from.toISOString()}) must be before --to (${to.toISOString()})`);
    request.from = from.toISOString();
    request.to = to.toISOString();
  }
  if (options.shards !== undefined) {
    if (!/^\d+(,\d+)*$/.test(options.shards)) invalid(`--shards must be shard indexes separated by commas, such as 0,2, got '${options.shards}'`);
    request.shards = [...new Set(options.shards.split(',').map(Number))];
  }
  return request;
}

const day = (text: string) => text.slice(0, 10);
const month = (text: string) => text.slice(0, 7);

/** A window as people name it at its level: an hour, a day or a month. */
function windowName(level: RollupLevel, start: string): string {
  return level === 'hourly' ? shortTime(start) : level === 'daily' ? day(start) : month(start);
}

export function formatReconcileReport(report: ReconcileReport): string {
  const lines: string[] = [];
  for (const warning of report.warnings) lines.push(`warning: ${warning}`);
  for (const shard of report.shards) {
    const name = shard.shardName.padEnd(10);
    for (const level of shard.levels) {
      if (!level.from || !level.to) {
        lines.push(`${name} ${level.level.padEnd(7)} not checked: ${level.note ?? 'nothing to compare'}`);
        continue;
      }
      const differing = level.windows.length;
      lines.push(
        `${name} ${level.level.padEnd(7)} ${windowName(level.level, level.from)} → ${windowName(level.level, level.to)}: ${formatCount(level.windowsChecked)} windows checked, ${
          differing === 0 ? 'all match' : `${differing} to look at`
        }`,
      );
      for (const window of level.windows) {
        const totals = `${SOURCE_NAME[level.level]} ${formatCount(window.sourcePageViews)}  ${level.level} ${formatCount(window.levelPageViews)}`;
        const action = window.action === 'failed' ? `FAILED: ${window.error ?? 'not re-rolled'}` : window.action === 'kept' ? 'kept (its source is short: re-rolling would lose page views)' : window.action;
        lines.push(`${name}   ${windowName(level.level, window.windowStart).padEnd(17)}  ${totals}  ${window.finding}  ${action}`);
      }
    }
    if (shard.problem) lines.push(`${name} FAILED: ${shard.problem.message}`);
    else lines.push(`${name} ${shard.outcome}`);
  }
  const attention = report.shards.filter((shard) => shard.outcome === 'failed' || shard.outcome === 'unrepaired').map((shard) => `${shard.shardName} ${shard.outcome}`);
  const what = report.dryRun ? 'dry run: nothing was re-rolled' : `run ${report.runId}`;
  lines.push(report.ok ? `ok: reconciliation, ${what}` : `NOT OK: reconciliation, ${what}; ${attention.join(', ')}`);
  return lines.join('\n');
}

export const registerReconcileCommand: CommandRegistrar = (program, context) => {
  program
    .command('reconcile')
    .description('compare page views of raw, hourly, daily and monthly over what retention holds; re-roll the windows that differ and the levels above them')
    .addOption(new Option('--from <iso>', 'start of the range to check, ISO-8601 UTC (default: everything retention still holds)'))
    .addOption(new Option('--to <iso>', 'end of the range (exclusive), ISO-8601 UTC'))
    .addOption(new Option('--shards <list>', 'only these shard indexes, such as 0,2'))
    .addOption(new Option('--dry-run', 'list the windows that differ, with both totals, and change nothing'))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: ReconcileOptions) => {
      // Checked before the profile is even read: bad input never touches a shard.
      const request = parseReconcileOptions(options);
      if (options.dryRun) {
        const plan = await context.withServices(options.profile, (services) => services.reconcile.plan(request));
        context.print(options.json, plan, () => formatReconcileReport(plan));
        if (!plan.ok) context.setExitCode(1);
        return;
      }
      const cancel = new AbortController();
      const onInterrupt = () => cancel.abort();
      process.once('SIGINT', onInterrupt);
      let report: ReconcileReport;
      try {
        report = await context.withServices(options.profile, (services) => services.reconcile.runManually(request, cancel.signal));
      } finally {
        process.removeListener('SIGINT', onInterrupt);
      }
      context.print(options.json, report, () => formatReconcileReport(report));
      if (cancel.signal.aborted) context.setExitCode(EXIT_CANCELLED);
      else if (!report.ok) context.setExitCode(1);
    });
};
