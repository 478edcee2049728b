import { describe, expect, it } from 'vitest';
import { alertRuleSchema } from '../../src/shared/alerts';
import { ErrorCode, StrataError } from '../../src/shared/errors';
import { METRICS } from '../../src/shared/monitor';
import { applyRuleEdit, DEFAULT_RULES, effectiveRules, parseStoredOverrides } from '../../src/main/alerts/rules';

function refusal(run: () => unknown): StrataError {
  try {
    run();
  } catch (error) {
    if (error instanceof StrataError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('alert rules', () => {
  it('the built-in rules are the cluster targets with stable names, each valid and on its metric\'s scope', () => {
    const rules = effectiveRules({});
    expect(rules.map((rule) => rule.name)).toEqual([
      'query-latency',
      'error-rate',
      'cpu',
      'memory',
      'aggregation-time',
      'hourly-lag',
      'daily-lag',
      'window-failed',
      'shard-unreachable',
      'redis-unreachable',
      'pmax-rows',
      'partitions-ahead',
      'queue-depth',
      'redis-hit-ratio',
      'backup-age',
    ]);
    for (const rule of rules) {
      expect(alertRuleSchema.parse(rule)).toEqual(rule);
      expect(rule.scope).toBe(METRICS[rule.metric].scope);
      expect(rule).toMatchObject({ enabled: true, customized: false });
    }
    expect(rules.find((rule) => rule.name === 'aggregation-time')).toMatchObject({ threshold: 300, forSeconds: 0, severity: 'critical', comparator: '>' });
    expect(rules.find((rule) => rule.name === 'shard-unreachable')).toMatchObject({ threshold: 1, forSeconds: 60, comparator: '<' });
  });

  it('an edit changes only what it names, says what changed, and marks the rule customized', () => {
    const edit = applyRuleEdit({}, { rule: 'query-latency', threshold: 250, forSeconds: 60 });
    expect(edit.rule).toMatchObject({ name: 'query-latency', threshold: 250, forSeconds: 60, severity: 'warning', customized: true });
    expect(edit.overrides).toEqual({ 'query-latency': { threshold: 250, forSeconds: 60 } });
    expect(edit.changes).toEqual(['threshold 100 ms → 250 ms', 'for 120 s → 60 s']);
    const second = applyRuleEdit(edit.overrides, { rule: 'query-latency', severity: 'critical' });
    expect(second.rule).toMatchObject({ threshold: 250, forSeconds: 60, severity: 'critical' });
  });

  it('an edit back to the default, or a reset, leaves the rule as built', () => {
    const edited = applyRuleEdit({}, { rule: 'cpu', threshold: 0.9, enabled: false });
    expect(edited.rule).toMatchObject({ enabled: false, customized: true });
    expect(applyRuleEdit(edited.overrides, { rule: 'cpu', threshold: 0.8, enabled: true }).overrides).toEqual({});
    const reset = applyRuleEdit(edited.overrides, { rule: 'cpu', reset: true });
    expect(reset.overrides).toEqual({});
    expect(reset.rule).toMatchObject({ threshold: 0.8, enabled: true, customized: false });
    expect(reset.changes).toEqual(['threshold 0.9 → 0.8', 'enabled']);
  });

  it('refuses an unknown rule naming the known ones, in one line', () => {
    const error = refusal(() => applyRuleEdit({}, { rule: 'disk-full', threshold: 1 }));
    expect(error.code).toBe(ErrorCode.AlertRuleUnknown);
    expect(error.message).toMatch(/^no alert rule is named disk-full; the rules are query-latency, error-rate, .*backup-age$/);
    expect(error.message).not.toContain('\n');
  });

  it('refuses thresholds that make no sense for the metric, and edits that say nothing', () => {
    const cases: Array<[Parameters<typeof applyRuleEdit>[1], RegExp]> = [
      [{ rule: 'cpu', threshold: 80 }, /^threshold 80 of cpu is a ratio between 0 and 1 \(0\.8 means 80 %\)$/],
      [{ rule: 'shard-unreachable', threshold: 2 }, /between 0 and 1/],
      [{ rule: 'queue-depth', threshold: -5 }, /cannot be negative/],
      [{ rule: 'queue-depth', forSeconds: -1 }, /^forSeconds: /],
      [{ rule: 'queue-depth', forSeconds: 8 * 86_400 }, /^forSeconds: /],
      [{ rule: 'queue-depth', severity: 'page' as never }, /^severity: /],
      [{ rule: 'queue-depth' }, /^say what to change on queue-depth/],
      [{ rule: 'queue-depth', reset: true, threshold: 5 }, /^reset queue-depth to its default or change it, not both$/],
      [{ rule: 'queue-depth', threshold: Number.NaN }, /^threshold: /],
    ];
    for (const [request, message] of cases) {
      const error = refusal(() => applyRuleEdit({}, request));
      expect(error.code, JSON.stringify(request)).toBe(ErrorCode.AlertRuleInvalid);
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('\n');
    }
  });

  it('stored overrides that no longer validate or name no rule are dropped and reported, the rest apply', () => {
    const stored = JSON.stringify({ cpu: { threshold: 0.9 }, memory: { threshold: 85 }, 'disk-full': { threshold: 1 }, 'queue-depth': { surprise: true } });
    const { overrides, problems } = parseStoredOverrides(stored);
    expect(overrides).toEqual({ cpu: { threshold: 0.9 } });
    expect(problems).toEqual(['stored changes to memory are invalid and ignored', 'stored changes to an unknown rule disk-full are ignored', 'stored changes to queue-depth are invalid and ignored']);
    expect(parseStoredOverrides('not json').problems).toHaveLength(1);
    expect(parseStoredOverrides(undefined)).toEqual({ overrides: {}, problems: [] });
    expect(effectiveRules(overrides).find((rule) => rule.name === 'cpu')).toMatchObject({ threshold: 0.9, customized: true });
  });

  it('every description is a plain sentence', () => {
    for (const rule of DEFAULT_RULES) expect(rule.description).toMatch(/^[A-Z].*\.$/);
  });
});
