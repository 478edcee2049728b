import { z } from 'zod';
import { figureLinkSchema, figureScopeSchema, metricNameSchema, SCOPE_KINDS } from './monitor';

/**
 * Alerts (issue 11): rules over the monitor's figures, their states per scope, silences, acknowledgements, the
 * history of every transition and the record of every delivery attempt. Times are ISO-8601 UTC strings.
 */

const isoTime = z.string();

export const ALERT_SEVERITIES = ['warning', 'critical'] as const;
export const alertSeveritySchema = z.enum(ALERT_SEVERITIES);
export const ALERT_COMPARATORS = ['>', '<'] as const;

/** Rule names are stable: scripts and `strata alerts set RULE` use them. */
export const ruleNameSchema = z.string().regex(/^[a-z][a-z0-9-]{1,63}$/, 'must be a rule name such as shard-unreachable');

export const alertRuleSchema = z.object({
  name: ruleNameSchema,
  description: z.string(),
  metric: metricNameSchema,
  /** Only figures of this level (`hourly-lag` watches level hourly); absent: every scope of the metric. */
  level: z.string().optional(),
  comparator: z.enum(ALERT_COMPARATORS),
  threshold: z.number().finite(),
  /** How long the figure must breach before pending becomes firing; 0 fires at once. */
  forSeconds: z.number().int().nonnegative().max(7 * 86_400),
  severity: alertSeveritySchema,
  scope: z.enum(SCOPE_KINDS),
  enabled: z.boolean(),
  /** True when the stored rule differs from the built-in default. */
  customized: z.boolean(),
});

export const ALERT_STATES = ['inactive', 'pending', 'firing', 'resolved'] as const;
export const alertStateNameSchema = z.enum(ALERT_STATES);

export const alertSilenceSchema = z.object({
  id: z.number().int(),
  rule: ruleNameSchema,
  /** Absent: every scope of the rule. */
  scope: z.string().optional(),
  until: isoTime,
  comment: z.string(),
  createdBy: z.string(),
  createdAt: isoTime,
});

export const alertStateSchema = z.object({
  rule: ruleNameSchema,
  scope: figureScopeSchema,
  state: alertStateNameSchema,
  severity: alertSeveritySchema,
  /** The value that triggered the current state (the latest breaching value while pending or firing). */
  value: z.number().nullable(),
  threshold: z.number(),
  /** When the current state began. */
  since: isoTime,
  firedAt: isoTime.optional(),
  resolvedAt: isoTime.optional(),
  message: z.string(),
  link: figureLinkSchema.optional(),
  silence: alertSilenceSchema.optional(),
  ackedBy: z.string().optional(),
  ackedAt: isoTime.optional(),
});

export const alertTransitionSchema = z.object({
  id: z.number().int(),
  rule: ruleNameSchema,
  scope: z.string(),
  from: alertStateNameSchema,
  to: alertStateNameSchema,
  at: isoTime,
  value: z.number().nullable(),
  threshold: z.number(),
  severity: alertSeveritySchema,
  message: z.string(),
  link: figureLinkSchema.optional(),
});

export const DELIVERY_STATES = ['pending', 'delivered', 'failed', 'skipped'] as const;
export const deliveryAttemptSchema = z.object({
  attempt: z.number().int().positive(),
  at: isoTime,
  /** The HTTP status the webhook answered; absent when it did not answer. */
  status: z.number().int().optional(),
  error: z.string().optional(),
  durationMs: z.number().int().nonnegative(),
});

export const alertDeliverySchema = z.object({
  id: z.number().int(),
  transitionId: z.number().int(),
  rule: ruleNameSchema,
  scope: z.string(),
  /** `firing` or `resolved`: what the message says. */
  kind: z.enum(['firing', 'resolved']),
  target: z.literal('webhook'),
  /** `failed` once every retry was used; `skipped` when silenced or no webhook is configured (`error` says which). */
  state: z.enum(DELIVERY_STATES),
  createdAt: isoTime,
  nextAttemptAt: isoTime.optional(),
  deliveredAt: isoTime.optional(),
  error: z.string().optional(),
  attempts: z.array(deliveryAttemptSchema),
});

export const alertListSchema = z.object({
  /** Pending and firing first, then recently resolved. */
  alerts: z.array(alertStateSchema),
  firing: z.number().int().nonnegative(),
  pending: z.number().int().nonnegative(),
  /** When the rules were last evaluated by the lease holder; absent before the first evaluation. */
  evaluatedAt: isoTime.optional(),
});

export const alertListRequestSchema = z.object({ includeResolved: z.boolean().default(true) }).strict();
export const alertHistoryRequestSchema = z
  .object({ limit: z.number().int().min(1).max(1000).default(200), rule: ruleNameSchema.optional() })
  .strict();
export const alertDeliveriesRequestSchema = z.object({ limit: z.number().int().min(1).max(1000).default(100) }).strict();

export const alertRuleSetRequestSchema = z
  .object({
    rule: ruleNameSchema,
    threshold: z.number().finite().optional(),
    forSeconds: z.number().int().nonnegative().max(7 * 86_400).optional(),
    severity: alertSeveritySchema.optional(),
    enabled: z.boolean().optional(),
    /** Back to the built-in default. */
    reset: z.boolean().optional(),
  })
  .strict();

export const alertSilenceRequestSchema = z
  .object({
    rule: ruleNameSchema,
    scope: z.string().min(1).max(96).optional(),
    until: z.iso.datetime({ offset: true }),
    comment: z.string().min(1, 'say why it is silenced').max(1000),
  })
  .strict();

export const alertUnsilenceRequestSchema = z.object({ id: z.number().int().positive() }).strict();

export const alertAckRequestSchema = z
  .object({ rule: ruleNameSchema, scope: z.string().min(1).max(96), comment: z.string().max(1000).optional() })
  .strict();

export const webhookTestReportSchema = z.object({
  configured: z.boolean(),
  /** Where the URL came from (`env STRATA_SLACK_WEBHOOK`, `keychain id`); never the URL. */
  source: z.string().optional(),
  delivered: z.boolean(),
  status: z.number().int().optional(),
  durationMs: z.number().int().nonnegative(),
  error: z.string().optional(),
});

/** `strata check`: 0 nothing firing, 1 a warning fires, 2 a critical fires. */
export const checkReportSchema = z.object({
  exitCode: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  firing: z.array(alertStateSchema),
  summary: z.string(),
});

export type AlertSeverity = z.infer<typeof alertSeveritySchema>;
export type AlertRule = z.infer<typeof alertRuleSchema>;
export type AlertStateName = z.infer<typeof alertStateNameSchema>;
export type AlertState = z.infer<typeof alertStateSchema>;
export type AlertSilence = z.infer<typeof alertSilenceSchema>;
export type AlertTransition = z.infer<typeof alertTransitionSchema>;
export type AlertDelivery = z.infer<typeof alertDeliverySchema>;
export type DeliveryAttempt = z.infer<typeof deliveryAttemptSchema>;
export type AlertList = z.infer<typeof alertListSchema>;
export type AlertRuleSetRequest = z.infer<typeof alertRuleSetRequestSchema>;
export type AlertSilenceRequest = z.infer<typeof alertSilenceRequestSchema>;
export type AlertAckRequest = z.infer<typeof alertAckRequestSchema>;
export type WebhookTestReport = z.infer<typeof webhookTestReportSchema>;
export type CheckReport = z.infer<typeof checkReportSchema>;
