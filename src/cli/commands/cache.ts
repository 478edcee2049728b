import { Option } from 'commander';
import type { CacheInvalidationLogEntry, CacheInvalidationResult, CacheKeysReport, CacheStats } from '../../shared/cache';
import { ErrorCode, StrataError, type ErrorCodeValue } from '../../shared/errors';
import { formatBytes } from '../../shared/format';
import { jsonOption, profileOption, type CommandRegistrar } from '../context';
import { askToType, formatCount, parseUtcOption, wholeNumberOption } from '../input';

export const CACHE_DESCRIPTION = "the application's Redis chart cache: hit ratio, memory, evictions and keys; invalidate a site, a range or all (Strata never writes these keys)";

const percent = (ratio: number | null) => (ratio === null ? 'no lookups yet' : `${(ratio * 100).toFixed(1)} %`);

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  return [header, ...rows].map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
}

/** `backfill 12`, `manual`; what a log entry was caused by. */
export function describeRun(entry: CacheInvalidationLogEntry): string {
  return entry.runId ? `${entry.runKind} ${entry.runId}` : entry.runKind;
}

export function formatInvalidationLog(entries: readonly CacheInvalidationLogEntry[]): string[] {
  if (entries.length === 0) return ['no invalidations recorded'];
  return table(
    ['AT', 'RUN', 'SCOPE', 'RANGE', 'KEYS'],
    entries.map((entry) => [
      entry.at,
      describeRun(entry),
      entry.siteId !== null ? `site ${entry.siteId}` : entry.shards ? `shards ${entry.shards.join(',')}` : 'all sites',
      entry.from && entry.to ? `${entry.from} – ${entry.to}` : 'any time',
      entry.keysDeleted === null ? (entry.note ?? 'not invalidated') : String(entry.keysDeleted),
    ]),
  );
}

export function formatStats(stats: CacheStats): string {
  const lines = [
    `Redis ${stats.redis}, keys under ${stats.prefix}`,
    `hit ratio ${percent(stats.hitRatio)} (${formatCount(stats.hits)} hits, ${formatCount(stats.misses)} misses since Redis started)`,
    `memory ${formatBytes(stats.usedMemoryBytes)}${stats.maxMemoryBytes ? ` of ${formatBytes(stats.maxMemoryBytes)}` : ' (no maxmemory)'}, ${formatCount(stats.evictedKeys)} evicted, ${formatCount(stats.expiredKeys)} expired`,
    `keys: ${formatCount(stats.keysByKind.chart)} chart, ${formatCount(stats.keysByKind.stats)} stats, over ${formatCount(stats.sites)} sites${stats.truncated ? ' (scan stopped at its bound: more exist)' : ''}`,
    '',
    "Strata's invalidations:",
    ...formatInvalidationLog(stats.invalidations.entries),
  ];
  if (stats.invalidations.problem) lines.push(`(the log could not be read: ${stats.invalidations.problem.message})`);
  return lines.join('\n');
}

export function formatKeys(report: CacheKeysReport): string {
  if (report.keys.length === 0) return `no application keys under ${report.prefix}`;
  const lines = table(
    ['KEY', 'SITE', 'KIND', 'TTL', 'SIZE'],
    report.keys.map((key) => [key.key, String(key.siteId), key.kind, key.ttlSeconds === null ? 'none' : `${key.ttlSeconds} s`, key.sizeBytes === null ? '-' : formatBytes(key.sizeBytes)]),
  );
  if (report.truncated) lines.push(`… ${formatCount(report.matched - report.keys.length)} more keys not listed (${formatCount(report.matched)} in all)`);
  return lines.join('\n');
}

export function formatInvalidation(result: CacheInvalidationResult): string {
  if (result.dryRun) {
    const lines = [`dry run: ${formatCount(result.matched)} keys of ${result.scope} would be deleted (${formatCount(result.scanned)} scanned); nothing changed`];
    for (const key of result.sample) lines.push(`  ${key}`);
    if (result.matched > result.sample.length) lines.push(`  … and ${formatCount(result.matched - result.sample.length)} more`);
    return lines.join('\n');
  }
  return `deleted ${formatCount(result.deleted)} keys of ${result.scope}${result.deleted < result.matched ? ` (${result.matched - result.deleted} had expired meanwhile)` : ''}`;
}

interface InvalidateOptions {
  site?: number;
  from?: Date;
  to?: Date;
  all?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  profile?: string;
  json?: boolean;
}

const utc = (name: string) => (text: string) => parseUtcOption(name, text, ErrorCode.CacheInvalid);

export const registerCacheCommand: CommandRegistrar = (program, context) => {
  const cache = program.command('cache').description(CACHE_DESCRIPTION);

  cache
    .command('stats')
    .description("hit ratio from INFO, memory, evictions, the application's keys per kind and site, and Strata's recent invalidations")
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: { profile?: string; json?: boolean }) => {
      const stats = await context.withServices(options.profile, (services) => services.cache.stats());
      context.print(options.json, stats, () => formatStats(stats));
    });

  cache
    .command('keys')
    .description("the application's chart and stats keys with their TTL and size (MEMORY USAGE)")
    .addOption(new Option('--site <id>', 'only this site').argParser(wholeNumberOption('--site', { min: 0, max: 4_294_967_295 }, ErrorCode.CacheInvalid)))
    .addOption(new Option('--limit <n>', 'list at most this many keys (1-1000)').argParser(wholeNumberOption('--limit', { min: 1, max: 1000 }, ErrorCode.CacheInvalid)).default(200))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: { site?: number; limit: number; profile?: string; json?: boolean }) => {
      const report = await context.withServices(options.profile, (services) => services.cache.keys({ siteId: options.site, limit: options.limit }));
      context.print(options.json, report, () => formatKeys(report));
    });

  cache
    .command('invalidate')
    .description("delete the application's cached charts of a site (of a range with --from/--to) or of all sites; counts first, asks for --all, audited")
    .addOption(new Option('--site <id>', 'the site whose keys go').argParser(wholeNumberOption('--site', { min: 0, max: 4_294_967_295 }, ErrorCode.CacheInvalid)))
    .addOption(new Option('--from <iso>', 'only keys whose dates reach this time (with --to)').argParser(utc('from')))
    .addOption(new Option('--to <iso>', 'only keys whose dates start before this time (with --from)').argParser(utc('to')))
    .addOption(new Option('--all', 'every chart and stats key of every site'))
    .addOption(new Option('--dry-run', 'count the keys that would go; delete nothing'))
    .addOption(new Option('--yes', 'do not ask before deleting all keys (needed for --all without a terminal)'))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: InvalidateOptions) => {
      if ((options.site === undefined) === !options.all) throw new StrataError(ErrorCode.CacheInvalid, 'give either --site ID or --all');
      if ((options.from === undefined) !== (options.to === undefined)) throw new StrataError(ErrorCode.CacheInvalid, 'give --from and --to together');
      if (options.all && options.from) throw new StrataError(ErrorCode.CacheInvalid, '--from/--to go with --site, not with --all');
      if (options.from && options.to && !(options.from < options.to)) throw new StrataError(ErrorCode.CacheInvalid, `--to must be after --from`);
      const request = options.all
        ? { all: true as const }
        : { siteId: options.site!, ...(options.from && options.to ? { from: options.from.toISOString(), to: options.to.toISOString() } : {}) };
      await context.withServices(options.profile, async (services) => {
        const counted = await services.cache.invalidate({ ...request, dryRun: true });
        if (options.dryRun || counted.matched === 0) {
          context.print(options.json, counted, () => formatInvalidation(counted));
          return;
        }
        if (options.all && !options.yes) {
          if (!process.stdin.isTTY || !process.stderr.isTTY) {
            throw new StrataError(ErrorCode.CacheNotConfirmed, `not invalidated: --all deletes ${counted.matched} keys of every site; confirm on a terminal, or pass --yes`);
          }
          if ((await askToType(`Delete ${formatCount(counted.matched)} cached charts of all sites?`, 'all')) !== 'confirmed') {
            throw new StrataError(ErrorCode.CacheNotConfirmed, 'not invalidated: not confirmed');
          }
        } else if (!options.json) {
          process.stderr.write(`${formatCount(counted.matched)} keys of ${counted.scope} to delete\n`);
        }
        const result = await services.cache.invalidate({ ...request, dryRun: false });
        context.print(options.json, result, () => formatInvalidation(result));
      });
    });

  cache
    .command('log')
    .description("Strata's invalidations of the application's keys, newest first: after which backfill, reconciliation or rollup, or by hand, and how many keys")
    .addOption(new Option('--limit <n>', 'how many (1-200)').argParser(wholeNumberOption('--limit', { min: 1, max: 200 }, ErrorCode.CacheInvalid)).default(20))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: { limit: number; profile?: string; json?: boolean }) => {
      const log = await context.withServices(options.profile, (services) => services.cache.invalidations(options.limit));
      if (log.problem) throw new StrataError(log.problem.code as ErrorCodeValue, log.problem.message);
      context.print(options.json, log, () => formatInvalidationLog(log.entries).join('\n'));
    });
};
