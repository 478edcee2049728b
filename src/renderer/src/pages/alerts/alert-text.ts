import type { MantineColor } from '@mantine/core';
import type { AlertRule, AlertStateName } from '../../../../shared/alerts';
import { formatMetricValue, METRICS, type FigureLink } from '../../../../shared/monitor';
import { TONE_COLOUR, type Tone } from '../../colours';

const STATE_TONE: Record<AlertStateName, Tone> = { firing: 'bad', pending: 'caution', resolved: 'good', inactive: 'idle' };

export function alertStateColour(state: AlertStateName): MantineColor {
  return TONE_COLOUR[STATE_TONE[state]];
}

export function severityColour(severity: 'warning' | 'critical'): MantineColor {
  return severity === 'critical' ? TONE_COLOUR.bad : TONE_COLOUR.warning;
}

/** A rule's value or threshold in the unit of its metric; a number as is when the rule is not (yet) known. */
export function ruleValueText(rule: AlertRule | undefined, value: number | null): string {
  if (value === null) return 'not measured';
  return rule ? formatMetricValue(rule.metric, value) : String(value);
}

/** `for 2 min`, `at once`. */
export function forText(seconds: number): string {
  if (seconds === 0) return 'at once';
  if (seconds < 120) return `for ${seconds} s`;
  if (seconds < 7200) return `for ${Math.round(seconds / 60)} min`;
  return `for ${(seconds / 3600).toFixed(1)} h`;
}

/** The console page that shows what an alert points at: a run on Jobs, a table on Partitions, and so on. */
export function linkHref(link: FigureLink): string {
  switch (link.kind) {
    case 'run':
      return '#/jobs';
    case 'table':
      return '#/partitions';
    case 'backup':
      return '#/backups';
    case 'shard':
    case 'redis':
    case 'queue':
      return '#/cluster-overview';
  }
}

/** A threshold is edited in percent for ratios (0.85 reads as 85 %), in the metric's own unit otherwise. */
export function thresholdUnit(rule: AlertRule): { factor: number; suffix: string } {
  const unit = METRICS[rule.metric].unit;
  return { factor: unit === 'ratio' ? 100 : 1, suffix: UNIT_SUFFIX[unit] };
}

const UNIT_SUFFIX: Record<(typeof METRICS)[keyof typeof METRICS]['unit'], string> = { ratio: '%', ms: 'ms', s: 's', per_s: 'per second', bool: '1 = yes, 0 = no', days: 'days', count: '' };
