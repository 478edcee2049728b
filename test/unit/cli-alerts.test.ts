import { describe, expect, it } from 'vitest';
import { formatAlertList, formatCheck, parseRuleSet, parseSilence, staleEvaluation } from '../../src/cli/commands/alerts';
import { formatSnapshot, ruleFor } from '../../src/cli/commands/monitor';
import { parseDurationOption } from '../../src/cli/input';
import type { AlertRule } from '../../src/shared/alerts';
import { ErrorCode } from '../../src/shared/errors';
import { makeScope, type MonitorSnapshot } from '../../src/shared/monitor';

const NOW = new Date('2026-12-02T06:00:00Z');
const refused = (message: RegExp) => expect.objectContaining({ code: ErrorCode.AlertRuleInvalid, message: expect.stringMatching(message) });

const rule = (overrides: Partial<AlertRule>): AlertRule => ({
  name: 'query-latency',
  description: 'chart queries slower than the target',
  metric: 'chart.latency_ms',
  comparator: '>',
  threshold: 100,
  forSeconds: 120,
  severity: 'warning',
  scope: 'shard',
  enabled: true,
  customized: false,
  ...overrides,
});

describe('strata alerts set', () => {
  it('turns the options into one rule change', () => {
    expect(parseRuleSet('aggregation-time', { threshold: '120', for: '5m', severity: 'critical', disable: true })).toEqual({
      rule: 'aggregation-time',
      threshold: 120,
      forSeconds: 300,
      severity: 'critical',
      enabled: false,
    });
    expect(parseRuleSet('cpu', { reset: true })).toEqual({ rule: 'cpu', reset: true });
  });

  it('refuses what would change nothing or contradict itself, in one line each', () => {
    expect(() => parseRuleSet('cpu', {})).toThrow(refused(/say what to change/));
    expect(() => parseRuleSet('cpu', { enable: true, disable: true })).toThrow(refused(/--enable or --disable, not both/));
    expect(() => parseRuleSet('cpu', { threshold: 'high' })).toThrow(refused(/--threshold must be a number, got 'high'/));
    expect(() => parseRuleSet('cpu', { severity: 'page' })).toThrow(refused(/--severity must be warning or critical/));
    expect(() => parseRuleSet('cpu', { for: '5 minutes' })).toThrow(refused(/--for must be a duration such as 90s/));
    expect(() => parseRuleSet('cpu', { reset: true, threshold: '1' })).toThrow(refused(/--reset .* give it alone/));
    expect(() => parseRuleSet('CPU!', { threshold: '1' })).toThrow(refused(/RULE must be a rule name/));
  });
});

describe('strata alerts silence', () => {
  it('silences until a time or for a duration from now, with the comment', () => {
    expect(parseSilence('shard-unreachable', { for: '2h', comment: ' planned restart ', scope: 'shard:1' }, NOW)).toEqual({
      rule: 'shard-unreachable',
      scope: 'shard:1',
      until: '2026-12-02T08:00:00.000Z',
      comment: 'planned restart',
    });
    expect(parseSilence('cpu', { until: '2026-12-03T00:00Z', comment: 'batch job' }, NOW).until).toBe('2026-12-03T00:00:00.000Z');
  });

  it('needs exactly one of --until and --for, a comment, and a time ahead', () => {
    expect(() => parseSilence('cpu', { comment: 'x' }, NOW)).toThrow(refused(/--until TIME or --for DURATION/));
    expect(() => parseSilence('cpu', { until: '2026-12-03T00:00Z', for: '1h', comment: 'x' }, NOW)).toThrow(refused(/one of them/));
    expect(() => parseSilence('cpu', { for: '1h' }, NOW)).toThrow(refused(/--comment is required/));
    expect(() => parseSilence('cpu', { until: '2026-12-01T00:00Z', comment: 'x' }, NOW)).toThrow(refused(/in the past/));
  });
});

describe('durations', () => {
  it('reads seconds, minutes, hours and days, and refuses anything longer than the bound', () => {
    expect([parseDurationOption('--for', '90', ErrorCode.AlertRuleInvalid), parseDurationOption('--for', '90s', ErrorCode.AlertRuleInvalid)]).toEqual([90, 90]);
    expect(parseDurationOption('--for', '1d', ErrorCode.AlertRuleInvalid)).toBe(86_400);
    expect(() => parseDurationOption('--for', '8d', ErrorCode.AlertRuleInvalid)).toThrow(refused(/at most 7 days/));
  });
});

describe('strata monitor', () => {
  const snapshot: MonitorSnapshot = {
    at: '2026-12-02T06:00:00.000Z',
    durationMs: 42,
    queries: 17,
    shards: [
      { index: 0, name: 'shard0', reachable: true, hostMetricsConfigured: false },
      { index: 1, name: 'shard1', reachable: false, problem: { code: 3001, message: 'refused' }, hostMetricsConfigured: false },
    ],
    redisReachable: true,
    figures: [
      { metric: 'chart.latency_ms', scope: makeScope({ shard: 0 }), value: 140 },
      { metric: 'host.cpu_ratio', scope: makeScope({ shard: 0 }), value: null, note: 'not configured' },
      { metric: 'watermark.lag_s', scope: makeScope({ shard: 0, level: 'hourly' }), value: 5400 },
      { metric: 'shard.up', scope: makeScope({ shard: 1 }), value: 0 },
    ],
    recorded: false,
  };
  const rules = [rule({}), rule({ name: 'hourly-lag', metric: 'watermark.lag_s', level: 'hourly', threshold: 7200 }), rule({ name: 'daily-lag', metric: 'watermark.lag_s', level: 'daily', threshold: 180_000 }), rule({ name: 'shard-unreachable', metric: 'shard.up', comparator: '<', threshold: 1 })];

  it('matches a figure to the rule of its metric and level', () => {
    expect(ruleFor(snapshot.figures[2]!, rules)?.name).toBe('hourly-lag');
    expect(ruleFor(snapshot.figures[2]!, rules.map((entry) => ({ ...entry, enabled: entry.name !== 'hourly-lag' })))).toBeUndefined();
  });

  it('prints each figure with its target, marks the one off target and says "not configured" instead of 0', () => {
    const text = formatSnapshot(snapshot, rules);
    expect(text.split('\n')[0]).toBe('measured 2026-12-02T06:00:00.000Z in 42 ms, 17 queries; unreachable: shard1');
    expect(text).toMatch(/shard0\s+chart query latency\s+140 ms\s+≤ 100 ms\s+OFF TARGET \(query-latency\)/);
    expect(text).toMatch(/shard0\s+host CPU\s+not configured/);
    expect(text).toMatch(/shard0 hourly\s+watermark lag\s+90 min\s+≤ 2\.0 h\s*$/m);
    expect(text).toMatch(/shard1\s+shard reachable\s+no\s+yes\s+OFF TARGET \(shard-unreachable\)/);
  });
});

describe('strata check', () => {
  it('prints the summary and one line per firing alert', () => {
    const firing = {
      rule: 'shard-unreachable',
      scope: makeScope({ shard: 1 }),
      state: 'firing' as const,
      severity: 'critical' as const,
      value: 0,
      threshold: 1,
      since: '2026-12-02T05:58:00.000Z',
      message: 'shard1 unreachable: connection refused',
    };
    expect(formatCheck({ exitCode: 2, firing: [firing], summary: 'CRITICAL: 1 alert firing' })).toBe('CRITICAL: 1 alert firing\nCRITICAL shard-unreachable shard:1: shard1 unreachable: connection refused');
  });
});

describe('strata check without a lease holder', () => {
  it('says the states are not current when the rules were never or not recently evaluated', () => {
    expect(staleEvaluation(undefined, NOW)).toMatch(/never been evaluated: run `strata agent`/);
    expect(staleEvaluation('2026-12-02T05:50:00.000Z', NOW)).toMatch(/last evaluated 10 min ago/);
    expect(staleEvaluation('2026-12-02T05:58:00.000Z', NOW)).toBeUndefined();
  });
});

describe('strata alerts list', () => {
  it("prints each value and threshold in its metric's unit", () => {
    const pending = { scope: makeScope({}), state: 'pending' as const, severity: 'warning' as const, since: '2026-12-02T05:58:00.000Z', message: 'Error rate is 4.3 %, above 0.1 %' };
    const text = formatAlertList({
      alerts: [
        { ...pending, rule: 'error-rate', value: 0.043478260869565216, threshold: 0.001 },
        { ...pending, rule: 'query-latency', scope: makeScope({ shard: 0 }), value: 140.25, threshold: 100 },
      ],
      firing: 0,
      pending: 2,
      evaluatedAt: '2026-12-02T06:00:00.000Z',
    });
    expect(text).toMatch(/error-rate\s+cluster\s+4\.3 % \(threshold 0\.1 %\)\s+2026-12-02 05:58:00Z/);
    expect(text).toMatch(/query-latency\s+shard:0\s+140 ms \(threshold 100 ms\)/);
  });
});
