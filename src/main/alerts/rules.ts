import { z } from 'zod';
import { alertRuleSetRequestSchema, alertSeveritySchema, type AlertRule, type AlertRuleSetRequest } from '../../shared/alerts';
import { ErrorCode, StrataError } from '../../shared/errors';
import { METRICS, formatMetricValue } from '../../shared/monitor';

/** The strata_settings row holding the changes made to the built-in rules; absent: every rule as built. */
export const ALERT_RULES_SETTING = 'alert-rules';

export type BuiltInRule = Omit<AlertRule, 'enabled' | 'customized'>;

/** The cluster's health targets and the faults a DBA must hear about. Names are stable: scripts use them. */
export const DEFAULT_RULES: readonly BuiltInRule[] = [
  {
    name: 'query-latency',
    description: 'The slowest dashboard chart query of a shard takes longer than the 100 ms target for two minutes.',
    metric: 'chart.latency_ms',
    comparator: '>',
    threshold: 100,
    forSeconds: 120,
    severity: 'warning',
    scope: 'shard',
  },
  {
    name: 'error-rate',
    description: "More than 0.1 % of Strata's own queries and probes fail for five minutes.",
    metric: 'probe.error_ratio',
    comparator: '>',
    threshold: 0.001,
    forSeconds: 300,
    severity: 'warning',
    scope: 'cluster',
  },
  {
    name: 'cpu',
    description: "A shard's host uses more than 80 % of its CPU for five minutes.",
    metric: 'host.cpu_ratio',
    comparator: '>',
    threshold: 0.8,
    forSeconds: 300,
    severity: 'warning',
    scope: 'shard',
  },
  {
    name: 'memory',
    description: "A shard's host uses more than 85 % of its memory for five minutes.",
    metric: 'host.memory_ratio',
    comparator: '>',
    threshold: 0.85,
    forSeconds: 300,
    severity: 'warning',
    scope: 'shard',
  },
  {
    name: 'aggregation-time',
    description: 'Aggregating one window took longer than five minutes; the alert names the window, the shard and the run.',
    metric: 'aggregation.duration_s',
    comparator: '>',
    threshold: 300,
    forSeconds: 0,
    severity: 'critical',
    scope: 'level',
  },
  {
    name: 'hourly-lag',
    description: 'The hourly rollup of a shard is more than two hours behind for ten minutes.',
    metric: 'watermark.lag_s',
    level: 'hourly',
    comparator: '>',
    threshold: 7200,
    forSeconds: 600,
    severity: 'warning',
    scope: 'level',
  },
  {
    name: 'daily-lag',
    description: 'The daily rollup of a shard is more than 50 hours behind for ten minutes.',
    metric: 'watermark.lag_s',
    level: 'daily',
    comparator: '>',
    threshold: 180_000,
    forSeconds: 600,
    severity: 'warning',
    scope: 'level',
  },
  {
    name: 'window-failed',
    description: 'A rollup window failed in the last 24 hours and no later run repaired it.',
    metric: 'rollup.failed_windows',
    comparator: '>',
    threshold: 0,
    forSeconds: 0,
    severity: 'critical',
    scope: 'level',
  },
  {
    name: 'shard-unreachable',
    description: 'A shard does not answer for a minute.',
    metric: 'shard.up',
    comparator: '<',
    threshold: 1,
    forSeconds: 60,
    severity: 'critical',
    scope: 'shard',
  },
  {
    name: 'redis-unreachable',
    description: 'Redis (the queue and the scheduler lease) does not answer for a minute.',
    metric: 'redis.up',
    comparator: '<',
    threshold: 1,
    forSeconds: 60,
    severity: 'critical',
    scope: 'cluster',
  },
  {
    name: 'pmax-rows',
    description: 'Rows landed in a table\'s catch-all pmax partition: partitions are missing ahead of the data.',
    metric: 'partitions.pmax_rows',
    comparator: '>',
    threshold: 0,
    forSeconds: 0,
    severity: 'warning',
    scope: 'table',
  },
  {
    name: 'partitions-ahead',
    description: 'A table has fewer than three days of partitions ahead of today.',
    metric: 'partitions.ahead_days',
    comparator: '<',
    threshold: 3,
    forSeconds: 0,
    severity: 'warning',
    scope: 'table',
  },
  {
    name: 'queue-depth',
    description: 'More than 10,000 events wait in the ingestion queue for five minutes.',
    metric: 'queue.depth',
    comparator: '>',
    threshold: 10_000,
    forSeconds: 300,
    severity: 'warning',
    scope: 'cluster',
  },
  {
    name: 'redis-hit-ratio',
    description: 'Fewer than 80 % of Redis key lookups hit for fifteen minutes.',
    metric: 'redis.hit_ratio',
    comparator: '<',
    threshold: 0.8,
    forSeconds: 900,
    severity: 'warning',
    scope: 'cluster',
  },
  {
    name: 'backup-age',
    description: 'The newest verified backup is more than two days old.',
    metric: 'backup.verified_age_s',
    comparator: '>',
    threshold: 172_800,
    forSeconds: 0,
    severity: 'warning',
    scope: 'cluster',
  },
];

/** What an edit may change on a built-in rule; everything else is fixed by the rule's name. */
const ruleOverrideSchema = z
  .object({
    threshold: z.number().finite().optional(),
    forSeconds: z.number().int().nonnegative().max(7 * 86_400).optional(),
    severity: alertSeveritySchema.optional(),
    enabled: z.boolean().optional(),
  })
  .strict();
export type RuleOverride = z.infer<typeof ruleOverrideSchema>;
export type RuleOverrides = Record<string, RuleOverride>;

/** The built-in rule of that name, or undefined for a name this build does not know. */
export function findBuiltInRule(name: string): BuiltInRule | undefined {
  return DEFAULT_RULES.find((candidate) => candidate.name === name);
}

export function builtInRule(name: string): BuiltInRule {
  const rule = findBuiltInRule(name);
  if (!rule) throw new StrataError(ErrorCode.AlertRuleUnknown, `no alert rule is named ${name}; the rules are ${DEFAULT_RULES.map((known) => known.name).join(', ')}`);
  return rule;
}

/** Why a threshold makes no sense for the rule's metric, or undefined when it does. */
export function thresholdProblem(rule: BuiltInRule, threshold: number): string | undefined {
  const unit = METRICS[rule.metric].unit;
  if ((unit === 'ratio' || unit === 'bool') && (threshold < 0 || threshold > 1)) {
    return unit === 'ratio'
      ? `threshold ${threshold} of ${rule.name} is a ratio between 0 and 1 (0.8 means 80 %)`
      : `threshold ${threshold} of ${rule.name} must be between 0 and 1 (1 means up)`;
  }
  if (threshold < 0) return `threshold ${threshold} of ${rule.name} cannot be negative (${METRICS[rule.metric].label} is never below 0)`;
  return undefined;
}

/** The rule as it applies now: the built-in default with its stored changes. */
export function effectiveRule(rule: BuiltInRule, override: RuleOverride | undefined): AlertRule {
  const applied = { ...rule, enabled: true, ...stripUndefined(override ?? {}) };
  const customized = applied.threshold !== rule.threshold || applied.forSeconds !== rule.forSeconds || applied.severity !== rule.severity || !applied.enabled;
  return { ...applied, customized };
}

export function effectiveRules(overrides: RuleOverrides): AlertRule[] {
  return DEFAULT_RULES.map((rule) => effectiveRule(rule, overrides[rule.name]));
}

/**
 * The stored overrides, keeping only entries that still name a rule and still validate; `problems` says what was
 * dropped so the service can log it (a newer build may have stored a rule this one does not know).
 */
export function parseStoredOverrides(text: string | undefined): { overrides: RuleOverrides; problems: string[] } {
  if (text === undefined) return { overrides: {}, problems: [] };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { overrides: {}, problems: [`the stored ${ALERT_RULES_SETTING} setting is not JSON; the built-in rules apply`] };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { overrides: {}, problems: [`the stored ${ALERT_RULES_SETTING} setting is not an object; the built-in rules apply`] };
  const overrides: RuleOverrides = {};
  const problems: string[] = [];
  for (const [name, value] of Object.entries(raw)) {
    const rule = findBuiltInRule(name);
    const parsed = ruleOverrideSchema.safeParse(value);
    if (!rule) problems.push(`stored changes to an unknown rule ${name} are ignored`);
    else if (!parsed.success || (parsed.data.threshold !== undefined && thresholdProblem(rule, parsed.data.threshold))) problems.push(`stored changes to ${name} are invalid and ignored`);
    else overrides[name] = parsed.data;
  }
  return { overrides, problems };
}

export interface RuleEdit {
  overrides: RuleOverrides;
  rule: AlertRule;
  /** `threshold 100 → 250, forSeconds 120 → 60`, for the audit entry and the log. */
  changes: string[];
}

/**
 * Applies one `strata alerts set` to the stored overrides, refusing what makes no sense with one-line errors.
 * Only the fields that differ from the built-in default are kept, so a rule edited back to it is no longer customized.
 */
export function applyRuleEdit(overrides: RuleOverrides, request: AlertRuleSetRequest): RuleEdit {
  const checked = alertRuleSetRequestSchema.safeParse(request);
  if (!checked.success) {
    throw new StrataError(ErrorCode.AlertRuleInvalid, checked.error.issues.map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message}`).join('; '));
  }
  const edit = checked.data;
  const rule = builtInRule(edit.rule);
  const changesAsked = edit.threshold !== undefined || edit.forSeconds !== undefined || edit.severity !== undefined || edit.enabled !== undefined;
  if (edit.reset && changesAsked) throw new StrataError(ErrorCode.AlertRuleInvalid, `reset ${rule.name} to its default or change it, not both`);
  if (!edit.reset && !changesAsked) throw new StrataError(ErrorCode.AlertRuleInvalid, `say what to change on ${rule.name}: a threshold, a for-duration, a severity, enable or disable, or reset`);
  if (edit.threshold !== undefined) {
    const problem = thresholdProblem(rule, edit.threshold);
    if (problem) throw new StrataError(ErrorCode.AlertRuleInvalid, problem);
  }
  const before = effectiveRule(rule, overrides[rule.name]);
  const merged: RuleOverride = edit.reset ? {} : { ...overrides[rule.name], ...stripUndefined({ threshold: edit.threshold, forSeconds: edit.forSeconds, severity: edit.severity, enabled: edit.enabled }) };
  const kept: RuleOverride = {};
  if (merged.threshold !== undefined && merged.threshold !== rule.threshold) kept.threshold = merged.threshold;
  if (merged.forSeconds !== undefined && merged.forSeconds !== rule.forSeconds) kept.forSeconds = merged.forSeconds;
  if (merged.severity !== undefined && merged.severity !== rule.severity) kept.severity = merged.severity;
  if (merged.enabled === false) kept.enabled = false;
  const next: RuleOverrides = { ...overrides };
  if (Object.keys(kept).length > 0) next[rule.name] = kept;
  else delete next[rule.name];
  const after = effectiveRule(rule, kept);
  const changes: string[] = [];
  if (before.threshold !== after.threshold) changes.push(`threshold ${exactThreshold(rule, before.threshold)} → ${exactThreshold(rule, after.threshold)}`);
  if (before.forSeconds !== after.forSeconds) changes.push(`for ${before.forSeconds} s → ${after.forSeconds} s`);
  if (before.severity !== after.severity) changes.push(`severity ${before.severity} → ${after.severity}`);
  if (before.enabled !== after.enabled) changes.push(after.enabled ? 'enabled' : 'disabled');
  return { overrides: next, rule: after, changes };
}

export function formatThreshold(rule: Pick<AlertRule, 'metric'>, threshold: number): string {
  return METRICS[rule.metric].unit === 'bool' ? String(threshold) : formatMetricValue(rule.metric, threshold);
}

const EXACT_UNIT_SUFFIX = { ms: ' ms', s: ' s', days: ' d', per_s: '/s', ratio: '', bool: '', count: '' } as const;

/** The number as given, with its unit: the audit keeps what was set, not a rounded display (0.001 s is not "0.0 s"). */
function exactThreshold(rule: BuiltInRule, threshold: number): string {
  return `${threshold}${EXACT_UNIT_SUFFIX[METRICS[rule.metric].unit]}`;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Partial<T>;
}
