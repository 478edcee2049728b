import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../../src/main/alerts/rules';
import { breaches, figureText, ruleOf, targetText } from '../../src/renderer/src/pages/monitoring/figures';
import type { AlertRule } from '../../src/shared/alerts';
import { makeScope, type Figure } from '../../src/shared/monitor';

const RULES: AlertRule[] = DEFAULT_RULES.map((rule) => ({ ...rule, enabled: true, customized: false }));

function figure(metric: Figure['metric'], value: number | null, note?: string): Figure {
  return { metric, scope: makeScope({ shard: 0 }), value, ...(note ? { note } : {}) };
}

describe('the Monitoring page’s figures against their alert targets', () => {
  it('says why a figure was not measured instead of showing 0', () => {
    expect(figureText(figure('host.cpu_ratio', null, 'not configured'))).toBe('not configured');
    expect(figureText(figure('host.cpu_ratio', 0.423))).toBe('42.3 %');
    expect(figureText(undefined)).toBe('—');
  });

  it('names each metric’s target from the rule that alerts on it, per level where the rule is', () => {
    expect(targetText(ruleOf(RULES, 'chart.latency_ms'))).toBe('alert > 100 ms for 2 min');
    expect(targetText(ruleOf(RULES, 'host.memory_ratio'))).toBe('alert > 85.0 % for 5 min');
    expect(targetText(ruleOf(RULES, 'watermark.lag_s', 'hourly'))).toBe('alert > 2.0 h for 10 min');
    expect(ruleOf(RULES, 'watermark.lag_s')).toBeUndefined();
    expect(targetText(ruleOf(RULES, 'shard.qps'))).toBe('—');
    const disabled = { ...ruleOf(RULES, 'host.cpu_ratio')!, enabled: false };
    expect(targetText(disabled)).toBe('alert > 80.0 % for 5 min (rule disabled)');
  });

  it('marks a figure on the alerting side of an enabled rule only', () => {
    const latency = ruleOf(RULES, 'chart.latency_ms');
    expect(breaches(figure('chart.latency_ms', 140), latency)).toBe(true);
    expect(breaches(figure('chart.latency_ms', 60), latency)).toBe(false);
    expect(breaches(figure('chart.latency_ms', null, 'unreachable'), latency)).toBe(false);
    expect(breaches(figure('shard.up', 0), ruleOf(RULES, 'shard.up'))).toBe(true);
    expect(breaches(figure('chart.latency_ms', 140), latency && { ...latency, enabled: false })).toBe(false);
  });
});
