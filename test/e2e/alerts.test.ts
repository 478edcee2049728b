import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterAlertService } from '../../src/main/alerts/service';
import type { TestCluster } from '../support/cluster';
import { SHOWS_WITHIN_MS, startConsoleSession, type ConsoleSession } from '../support/e2e';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = Math.floor(Date.now() / (5 * MINUTE)) * 5 * MINUTE + 10_000;
const TRAFFIC_HOURS = 4;
const SHARD0_LAG = 'alert-hourly-lag-shard:0/hourly';
const SHARD1_LAG = 'alert-hourly-lag-shard:1/hourly';

let session: ConsoleSession;
let cluster: TestCluster;
let page: Page;
/** Both services' clock; each cycle moves it 30 s, as the probe interval would. */
let clock = new Date(START);

/** One probe cycle, and the alert evaluation it hands over (this process stands in for the lease holder). */
async function cycle(): Promise<void> {
  clock = new Date(clock.getTime() + 30_000);
  await cluster.services.monitor.runCycle({ record: false });
  await (cluster.services.alerts as ClusterAlertService).idle();
}

async function text(testId: string): Promise<string> {
  return page.getByTestId(testId).innerText();
}

beforeAll(async () => {
  session = await startConsoleSession({ shards: 2, services: { monitor: { now: () => clock }, alerts: { now: () => clock, leaseToken: () => 7 } } });
  ({ cluster, page } = session);
  const thisHour = Math.floor(START / HOUR) * HOUR;
  await cluster.services.generator.run({ from: new Date(thisHour - TRAFFIC_HOURS * HOUR).toISOString(), to: new Date(thisHour).toISOString(), sites: 20, views: 4_000, seed: 31 });
  expect((await cluster.services.rollup.runDue('hourly', { trigger: 'manual' })).ok).toBe(true);
  await cycle();
});

afterAll(async () => {
  await session?.close();
});

describe('alerts page in a real browser against a real 2-shard cluster', () => {
  it('lists every rule with its threshold, and nothing firing on a healthy cluster', async () => {
    await session.openPage('alerts');
    await page.getByTestId('rule-table').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await text('rule-query-latency-threshold')).toBe('> 100 ms');
    expect(await text('rule-hourly-lag-threshold')).toBe('> 2.0 h');
    expect(await text('rule-cpu-threshold')).toBe('> 80.0 %');
    expect(await page.getByTestId('rule-hourly-lag').innerText()).toContain('for 10 min');
    await page.locator('[data-testid="alerts-firing-count"]', { hasText: /^0$/ }).waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('nav-alerts-firing').count()).toBe(0);
    expect(await text('alerts-evaluated')).not.toContain('never');
  });

  it('refuses a threshold that makes no sense in one line, then saves a lowered one', async () => {
    await page.getByTestId('rule-hourly-lag-edit').click();
    await page.getByTestId('rule-threshold').waitFor({ timeout: SHOWS_WITHIN_MS });
    await page.getByTestId('rule-threshold').fill('-5');
    await page.getByTestId('rule-save').click();
    const refusal = page.getByTestId('rule-error');
    await refusal.waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await refusal.innerText()).toBe('Invalid alert rule: threshold -5 of hourly-lag cannot be negative (watermark lag is never below 0)');
    expect(await text('rule-hourly-lag-threshold')).toBe('> 2.0 h');

    // A lag of more than 0 s at once: the hour in progress is always behind, so it fires on the next cycle.
    await page.getByTestId('rule-threshold').fill('0');
    await page.getByTestId('rule-for').fill('0');
    await page.getByTestId('rule-save').click();
    await page.getByTestId('rule-dialog').waitFor({ state: 'detached', timeout: SHOWS_WITHIN_MS });
    await page.locator('[data-testid="rule-hourly-lag-threshold"]', { hasText: '> 0.0 s' }).waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('rule-hourly-lag').innerText()).toMatch(/changed[\s\S]*at once/);
  });

  it('shows the rule firing on both shards after a cycle, with the count in the sidebar of every page and a notice', async () => {
    await cycle();
    for (const id of [SHARD0_LAG, SHARD1_LAG]) {
      await page.locator(`[data-testid="${id}"][data-state="firing"]`).waitFor({ timeout: SHOWS_WITHIN_MS });
      expect(await text(`${id}-value`)).toMatch(/^\d+(\.\d)? (s|min)$/);
    }
    expect(await text(`${SHARD0_LAG}-link`)).toContain('hourly watermark');
    await page.locator('[data-testid="nav-alerts-firing"]', { hasText: /^2$/ }).waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await text('alerts-firing-count')).toBe('2');
    await page.getByTestId('firing-toast').first().waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('firing-toast').count()).toBe(2);
    expect(await page.getByTestId('firing-toast').first().innerText()).toContain('Firing: hourly-lag');

    await session.openPage('jobs');
    await page.locator('[data-testid="nav-alerts-firing"]', { hasText: /^2$/ }).waitFor({ timeout: SHOWS_WITHIN_MS });
    await session.openPage('alerts');
    await page.getByTestId(SHARD0_LAG).waitFor({ timeout: SHOWS_WITHIN_MS });
  });

  it('silences one scope after asking how long and why, and it stays firing but silenced', async () => {
    await page.getByTestId(`${SHARD0_LAG}-silence`).click();
    await page.getByTestId('silence-comment').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('silence-confirm').isDisabled()).toBe(true);
    await page.getByTestId('silence-duration').getByText('4 h', { exact: true }).click();
    await page.getByTestId('silence-comment').fill('planned maintenance of shard0');
    expect(await text('silence-confirm')).toMatch(/^Silence until \d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    await page.getByTestId('silence-confirm').click();
    await page.getByTestId('silence-dialog').waitFor({ state: 'detached', timeout: SHOWS_WITHIN_MS });
    await page.locator(`[data-testid="${SHARD0_LAG}"][data-silenced="yes"]`).waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await text(`${SHARD0_LAG}-silenced`)).toMatch(/^silenced until .+ by .+: planned maintenance of shard0$/);
    expect(await page.locator(`[data-testid="${SHARD1_LAG}"]`).getAttribute('data-silenced')).toBe('no');

    await cycle();
    expect(await page.locator(`[data-testid="${SHARD0_LAG}"]`).getAttribute('data-state')).toBe('firing');
    expect(await page.locator(`[data-testid="${SHARD0_LAG}"]`).getAttribute('data-silenced')).toBe('yes');
    const silences = await cluster.services.alerts.list({ includeResolved: true });
    expect(silences.alerts.find((alert) => alert.scope.key === 'shard:0/hourly')?.silence?.comment).toBe('planned maintenance of shard0');

    await page.getByTestId(`${SHARD0_LAG}-unsilence`).click();
    await page.locator(`[data-testid="${SHARD0_LAG}"][data-silenced="no"]`).waitFor({ timeout: SHOWS_WITHIN_MS });
    expect((await cluster.services.alerts.list({ includeResolved: true })).alerts.find((alert) => alert.scope.key === 'shard:0/hourly')?.silence).toBeUndefined();
  });

  it('acknowledges the other one, and says who did', async () => {
    await page.getByTestId(`${SHARD1_LAG}-ack`).click();
    await page.locator(`[data-testid="${SHARD1_LAG}"][data-acked="yes"]`).waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await text(`${SHARD1_LAG}-acked`)).toMatch(/^acknowledged by \S+ at \d{4}-\d\d-\d\d \d\d:\d\d$/);
    expect(await page.getByTestId(`${SHARD1_LAG}-ack`).count()).toBe(0);
  });

  it('keeps the history of the transitions and the deliveries, skipped without a webhook, and answers the test message', async () => {
    const fired = page.locator('[data-testid="transition-row"][data-rule="hourly-lag"][data-change$="→firing"]');
    await fired.nth(1).waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await fired.count()).toBe(2);
    const deliveries = page.locator('[data-testid^="delivery-"][data-state]');
    await deliveries.first().waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.locator('[data-testid^="delivery-"][data-state="skipped"]').count()).toBe(await deliveries.count());

    await page.getByTestId('webhook-test').click();
    await page.locator('[data-testid="webhook-answer"]', { hasText: 'No webhook is configured' }).waitFor({ timeout: SHOWS_WITHIN_MS });
  });

  it('points an aggregation-time alert at its run, and the Jobs page marks that run', async () => {
    // Every window takes more than 0 s, so the newest run of each shard breaches a lowered threshold.
    await cluster.services.alerts.setRule({ rule: 'aggregation-time', threshold: 0 });
    await cycle();
    const link = page.getByTestId('alert-aggregation-time-shard:0/hourly-link');
    await link.waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await link.getAttribute('data-kind')).toBe('run');
    expect(await link.getAttribute('href')).toBe('#/jobs');
    const runId = Number(await link.getAttribute('data-run-id'));
    expect(runId).toBeGreaterThan(0);
    await page.locator('[data-testid="nav-alerts-firing"]', { hasText: /^4$/ }).waitFor({ timeout: SHOWS_WITHIN_MS });
    await session.screenshot('alerts');

    await link.click();
    await page.getByTestId('page-jobs').waitFor({ timeout: SHOWS_WITHIN_MS });
    const alerted = page.locator('[data-testid="run-row"][data-alerted="yes"]');
    await alerted.first().waitFor({ timeout: SHOWS_WITHIN_MS });
    // One run per shard: the newest window each shard rolled up.
    expect(await alerted.count()).toBe(2);
    expect(await alerted.first().getByTestId('run-alert').innerText()).toBe('alert');
  });

  it('puts a changed rule back to the built-in one', async () => {
    await session.openPage('alerts');
    await page.getByTestId('rule-hourly-lag-edit').click();
    await page.getByTestId('rule-reset').click();
    await page.getByTestId('rule-dialog').waitFor({ state: 'detached', timeout: SHOWS_WITHIN_MS });
    await page.locator('[data-testid="rule-hourly-lag-threshold"]', { hasText: '> 2.0 h' }).waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('rule-hourly-lag').innerText()).not.toContain('changed');
    expect(session.pageErrors).toEqual([]);
  });
});
