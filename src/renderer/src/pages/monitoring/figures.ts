import type { AlertRule } from '../../../../shared/alerts';
import { formatMetricValue, type Figure, type MetricName, type MonitorSeries, type MonitorSnapshot } from '../../../../shared/monitor';

/** The figure of a metric for one scope key (`shard:0`, `shard:1/hourly`, `cluster`) in a probe cycle. */
export function figureOf(snapshot: MonitorSnapshot | undefined, metric: MetricName, scopeKey: string): Figure | undefined {
  return snapshot?.figures.find((figure) => figure.metric === metric && figure.scope.key === scopeKey);
}

export function seriesOf(series: readonly MonitorSeries[] | undefined, metric: MetricName, scopeKey: string): MonitorSeries | undefined {
  return series?.find((entry) => entry.metric === metric && entry.scope.key === scopeKey);
}

/** A figure as the page prints it; an unmeasured one says why ("not configured", "unreachable"), never 0. */
export function figureText(figure: Figure | undefined): string {
  if (!figure) return '—';
  return formatMetricValue(figure.metric, figure.value, figure.note);
}

/**
 * The rule that watches a metric, so the targets drawn and listed are the ones that alert, changed or not. A
 * per-level rule (hourly-lag) is only the metric's rule for that level.
 */
export function ruleOf(rules: readonly AlertRule[] | undefined, metric: MetricName, level?: string): AlertRule | undefined {
  return rules?.find((rule) => rule.metric === metric && rule.level === level);
}

/** `> 100 ms for 2 min`, or `—` when no rule watches the metric. */
export function targetText(rule: AlertRule | undefined): string {
  if (!rule) return '—';
  const threshold = formatMetricValue(rule.metric, rule.threshold);
  const lasting = rule.forSeconds === 0 ? '' : ` for ${rule.forSeconds < 120 ? `${rule.forSeconds} s` : `${Math.round(rule.forSeconds / 60)} min`}`;
  return `alert ${rule.comparator} ${threshold}${lasting}${rule.enabled ? '' : ' (rule disabled)'}`;
}

/** Whether a figure is on the alerting side of its rule's threshold (unmeasured figures never are). */
export function breaches(figure: Figure | undefined, rule: AlertRule | undefined): boolean {
  if (!figure || figure.value === null || !rule?.enabled) return false;
  return rule.comparator === '>' ? figure.value > rule.threshold : figure.value < rule.threshold;
}

/** Built-in targets, for the chart lines while the rules are still being read. */
export const DEFAULT_TARGETS: Partial<Record<MetricName, number>> = {
  'chart.latency_ms': 100,
  'host.cpu_ratio': 0.8,
  'host.memory_ratio': 0.85,
};
