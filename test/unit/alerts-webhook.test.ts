import { describe, expect, it } from 'vitest';
import type { AlertTransition } from '../../src/shared/alerts';
import { alertWebhookMessage, webhookConfigured, webhookSecretSource, webhookSourceText } from '../../src/main/alerts/webhook';

const transition: AlertTransition = {
  id: 41,
  rule: 'aggregation-time',
  scope: 'shard:0/hourly',
  from: 'inactive',
  to: 'firing',
  at: '2026-12-01T11:07:12.345Z',
  value: 412,
  threshold: 300,
  severity: 'critical',
  message: 'aggregation of hourly window 2026-12-01 10:00 on shard0 took 412 s (run 123)',
  link: { kind: 'run', runId: 123, shard: 0, text: 'hourly window 2026-12-01T10:00:00.000Z on shard0: ok in 412.0 s' },
};

describe('alert webhook messages', () => {
  it('a firing message says severity, rule, scope and what happened in its text, and when and what is behind it in its blocks', () => {
    const message = alertWebhookMessage(transition, 'firing');
    expect(message.text).toBe(':red_circle: FIRING critical aggregation-time (shard:0/hourly): aggregation of hourly window 2026-12-01 10:00 on shard0 took 412 s (run 123)');
    expect(JSON.stringify(message.blocks)).toContain('at 2026-12-01 11:07:12 UTC · hourly window 2026-12-01T10:00:00.000Z on shard0: ok in 412.0 s');
  });

  it('a resolved message says so without a severity mark', () => {
    const message = alertWebhookMessage({ ...transition, from: 'firing', to: 'resolved', severity: 'warning', message: 'shard1 answers again', scope: 'shard:1', rule: 'shard-unreachable' }, 'resolved');
    expect(message.text).toBe(':large_green_circle: RESOLVED shard-unreachable (shard:1): shard1 answers again');
  });

  it('the profile names where the URL comes from, and reports say only that', () => {
    expect(webhookConfigured(undefined)).toBe(false);
    expect(webhookConfigured({})).toBe(false);
    expect(webhookConfigured({ webhookUrlEnv: 'STRATA_SLACK_WEBHOOK' })).toBe(true);
    expect(webhookSourceText({ webhookUrlKeychain: 'slack' })).toBe('keychain slack');
    expect(webhookSecretSource({ webhookUrlEnv: 'STRATA_SLACK_WEBHOOK' })).toEqual({ passwordEnv: 'STRATA_SLACK_WEBHOOK', passwordKeychain: undefined });
  });
});
