import { Option } from 'commander';
import { ErrorCode, StrataError } from '../../shared/errors';
import { describeScope, TOP_LIMIT_MAX, type TrafficAnswer, type TrafficScope } from '../../shared/traffic';
import { jsonOption, profileOption, reportPartial, type CommandRegistrar } from '../context';
import { formatCount, parseUtcOption, shortTime, wholeNumberOption } from '../input';

interface TrafficOptions {
  profile?: string;
  json?: boolean;
  site?: number;
  top?: number;
  cluster?: boolean;
  from?: string;
  to?: string;
  cache: boolean;
}

function describeCache(cache: TrafficAnswer['cache']): string {
  if (cache.state === 'hit') return `hit, computed ${cache.ageSeconds} s ago (kept ${cache.ttlSeconds} s), from ${cache.from === 'memory' ? "this process's tracked copy" : 'Redis'}`;
  if (cache.state === 'miss') return `miss, computed now and stored for ${cache.ttlSeconds} s`;
  return `uncached: ${cache.reason}`;
}

/** The chart as text: what was read and why, one line per period (provisional ones marked), the totals, the top sites. */
export function formatTraffic(answer: TrafficAnswer): string {
  const lines = [
    `${describeScope(answer.scope)}: ${shortTime(answer.from)} to ${shortTime(answer.to)} from ${answer.table}`,
    `why: ${answer.reason}`,
    ...(answer.provisionalNote ? [`provisional: ${answer.provisionalNote}`] : []),
    `cache: ${describeCache(answer.cache)}`,
    `visitors: ${answer.visitorsMeaning}`,
    '',
  ];
  const rows = answer.series.map((point) => [shortTime(point.t), formatCount(point.pageViews), formatCount(point.visitors), point.provisional ? 'provisional' : '']);
  const table = [['period', 'page views', 'visitors', ''], ...rows, ['total', formatCount(answer.totals.pageViews), formatCount(answer.totals.visitors), '']];
  const widths = [0, 1, 2].map((column) => Math.max(...table.map((row) => row[column]!.length)));
  for (const row of table) lines.push(`${row[0]!.padEnd(widths[0]!)}  ${row[1]!.padStart(widths[1]!)}  ${row[2]!.padStart(widths[2]!)}  ${row[3]}`.trimEnd());
  if (answer.top) {
    lines.push('', 'top sites');
    const top = [['site', 'shard', 'page views', 'visitors'], ...answer.top.map((row) => [String(row.siteId), String(row.shard), formatCount(row.pageViews), formatCount(row.visitors)])];
    const topWidths = [0, 1, 2, 3].map((column) => Math.max(...top.map((row) => row[column]!.length)));
    for (const row of top) lines.push(row.map((cell, column) => (column === 0 ? cell.padEnd(topWidths[column]!) : cell.padStart(topWidths[column]!))).join('  '));
  }
  if (answer.partial) lines.push('', `PARTIAL: lacks ${answer.shards.failed.map((shard) => shard.shardName).join(', ')} (their sites are not counted)`);
  return lines.join('\n');
}

/** Exactly one of --site, --top and --cluster, and both ends of the range, checked before anything connects. */
export function trafficScopeOf(options: Pick<TrafficOptions, 'site' | 'top' | 'cluster'>): TrafficScope {
  const given = [options.site !== undefined, options.top !== undefined, options.cluster === true].filter(Boolean).length;
  if (given !== 1) throw new StrataError(ErrorCode.TrafficInvalid, 'give exactly one of --site ID, --top N or --cluster');
  if (options.site !== undefined) return { kind: 'site', siteId: options.site };
  if (options.top !== undefined) return { kind: 'top', limit: options.top };
  return { kind: 'cluster' };
}

export const registerTrafficCommand: CommandRegistrar = (program, context) => {
  program
    .command('traffic')
    .description("a traffic chart (page views, visitors) of one site, the top sites or the cluster, from the table the application would read, with the windows not rolled up yet marked provisional; exits 1 when a shard did not answer")
    .addOption(new Option('--site <id>', 'one site').argParser(wholeNumberOption('--site', { max: 4_294_967_295, what: 'a site id' }, ErrorCode.TrafficInvalid)))
    .addOption(new Option('--top <n>', 'the busiest N sites of the range').argParser(wholeNumberOption('--top', { min: 1, max: TOP_LIMIT_MAX }, ErrorCode.TrafficInvalid)))
    .addOption(new Option('--cluster', 'every site of every shard'))
    .addOption(new Option('--from <iso>', 'start of the range (UTC)'))
    .addOption(new Option('--to <iso>', 'end of the range (UTC, exclusive)'))
    .addOption(new Option('--no-cache', "read the shards, not Strata's chart cache (and store nothing)"))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: TrafficOptions) => {
      const scope = trafficScopeOf(options);
      if (!options.from || !options.to) throw new StrataError(ErrorCode.TrafficInvalid, 'give the range with --from ISO and --to ISO');
      const from = parseUtcOption('from', options.from, ErrorCode.TrafficInvalid);
      const to = parseUtcOption('to', options.to, ErrorCode.TrafficInvalid);
      if (from >= to) throw new StrataError(ErrorCode.TrafficInvalid, `--from (${options.from}) must be before --to (${options.to})`);
      const answer = await context.withServices(options.profile, (services) =>
        services.traffic.chart({ scope, from: from.toISOString(), to: to.toISOString(), cache: options.cache }),
      );
      context.print(options.json, answer, () => formatTraffic(answer));
      reportPartial(context, 'the chart', answer.shards.failed);
    });
};
