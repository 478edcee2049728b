import { Option } from 'commander';
import type { AlertRule } from '../../shared/alerts';
import { formatMetricValue, METRICS, type Figure, type MonitorSnapshot } from '../../shared/monitor';
import { jsonOption, nextStopSignal, profileOption, reportPartial, type CommandRegistrar } from '../context';
import { wholeNumberOption } from '../input';

interface MonitorOptions {
  watch?: boolean;
  interval: number;
  profile?: string;
  json?: boolean;
}

/** The rule watching a figure: same metric, and the same level when the rule names one. */
export function ruleFor(figure: Figure, rules: readonly AlertRule[]): AlertRule | undefined {
  return rules.find((rule) => rule.enabled && rule.metric === figure.metric && (rule.level === undefined || rule.level === figure.scope.level));
}

function breaches(figure: Figure, rule: AlertRule | undefined): boolean {
  if (!rule || figure.value === null) return false;
  return rule.comparator === '>' ? figure.value > rule.threshold : figure.value < rule.threshold;
}

/** One line per figure, grouped by scope, with the target of the rule that watches it and a mark when it is off target. */
export function formatSnapshot(snapshot: MonitorSnapshot, rules: readonly AlertRule[]): string {
  const header = ['SCOPE', 'FIGURE', 'VALUE', 'TARGET', ''];
  const scopeName = (figure: Figure) => {
    if (figure.scope.shard === undefined) return 'cluster';
    const shard = snapshot.shards.find((entry) => entry.index === figure.scope.shard)?.name ?? `shard${figure.scope.shard}`;
    const detail = figure.scope.level ?? figure.scope.table;
    return detail ? `${shard} ${detail}` : shard;
  };
  const sorted = [...snapshot.figures].sort((a, b) => a.scope.key.localeCompare(b.scope.key, 'en', { numeric: true }));
  const rows = sorted.map((figure) => {
    const rule = ruleFor(figure, rules);
    const target = !rule ? '' : METRICS[figure.metric].unit === 'bool' ? 'yes' : `${rule.comparator === '>' ? '≤' : '≥'} ${formatMetricValue(figure.metric, rule.threshold)}`;
    return [scopeName(figure), METRICS[figure.metric].label, formatMetricValue(figure.metric, figure.value, figure.note), target, breaches(figure, rule) ? `OFF TARGET (${rule!.name})` : ''];
  });
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const lines = [header, ...rows].map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
  const unreachable = snapshot.shards.filter((shard) => !shard.reachable).map((shard) => shard.name);
  lines.unshift(
    `measured ${snapshot.at} in ${Math.round(snapshot.durationMs)} ms, ${snapshot.queries} queries` +
      (unreachable.length ? `; unreachable: ${unreachable.join(', ')}` : '') +
      (snapshot.redisReachable ? '' : '; Redis unreachable'),
  );
  return lines.join('\n');
}

export const registerMonitorCommand: CommandRegistrar = (program, context) => {
  program
    .command('monitor')
    .description('one probe cycle now: latency, chart queries, server status, host CPU/memory, Redis, queue, watermark lag, with their targets; exits 1 when a shard is unreachable')
    .addOption(new Option('--watch', 'measure again every --interval seconds until Ctrl-C'))
    .addOption(new Option('--interval <seconds>', 'seconds between cycles with --watch').argParser(wholeNumberOption('--interval', { min: 1, max: 3600 })).default(30))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: MonitorOptions) => {
      await context.withServices(options.profile, async (services) => {
        const rules = await services.alerts.rules().catch(() => [] as AlertRule[]);
        const measure = async () => {
          const snapshot = await services.monitor.runCycle({ record: false });
          if (options.watch && !options.json) process.stdout.write('\x1b[2J\x1b[H');
          context.print(options.json, snapshot, () => formatSnapshot(snapshot, rules));
          reportPartial(
            context,
            'monitor',
            snapshot.shards.filter((shard) => !shard.reachable).map((shard) => ({ shardName: shard.name, problem: shard.problem })),
          );
        };
        await measure();
        if (!options.watch) return;
        const stopped = nextStopSignal().then(() => 'stop' as const);
        for (;;) {
          const next = await Promise.race([stopped, new Promise<'tick'>((resolve) => setTimeout(resolve, options.interval * 1000, 'tick'))]);
          if (next === 'stop') return;
          await measure();
        }
      });
    });
};
