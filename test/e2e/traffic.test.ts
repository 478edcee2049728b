import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCluster } from '../support/cluster';
import { SHOWS_WITHIN_MS, startConsoleSession, type ConsoleSession } from '../support/e2e';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const THIS_HOUR = Math.floor(Date.now() / HOUR) * HOUR;

let session: ConsoleSession;
let cluster: TestCluster;
let page: Page;
let busiest: number;

/** The answer to what is picked now, not the previous chart kept on screen while the next one loads. */
const answer = (table: string, cache?: string) => page.locator(`[data-testid="traffic-answer"][data-current="true"][data-table="${table}"]${cache ? `[data-cache="${cache}"]` : ''}`);

describe('traffic page in a real browser against a real 2-shard cluster', () => {
  beforeAll(async () => {
    session = await startConsoleSession({ shards: 2 });
    ({ cluster, page } = session);
    const services = cluster.services;
    // The last two days up to now, rolled up hourly and daily; the current hour stays raw (provisional).
    await services.generator.run({ from: new Date(THIS_HOUR - 2 * DAY).toISOString(), to: new Date().toISOString(), sites: 15, views: 6_000, seed: 5 });
    expect((await services.rollup.runDue('hourly', { trigger: 'manual' })).ok).toBe(true);
    expect((await services.rollup.runDue('daily', { trigger: 'manual' })).ok).toBe(true);
    busiest = (await services.traffic.sites({})).sites[0]!.siteId;
  });

  afterAll(async () => {
    expect(session?.pageErrors ?? []).toEqual([]);
    await session?.close();
  });

  it('draws the cluster’s last 24 hours from hourly rows, says why, and dashes the current hour as provisional', async () => {
    await session.openPage('traffic');
    await answer('analytics_hourly').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.locator('[data-testid="traffic-chart"] canvas').count()).toBe(1);
    expect(Number(await page.getByTestId('traffic-chart').getAttribute('data-points'))).toBe(24);
    expect(Number(await page.getByTestId('traffic-chart').getAttribute('data-provisional'))).toBeGreaterThanOrEqual(1);
    expect(await page.getByTestId('traffic-reason').innerText()).toMatch(/^the range is 24 h, under 3 days: hourly rows$/);
    expect(await page.getByTestId('traffic-provisional-legend').innerText()).toContain('provisional');
    expect(await page.getByTestId('traffic-table').textContent()).toBe('analytics_hourly');
    const views = await page.getByTestId('traffic-total-views').innerText();
    const chart = await cluster.services.traffic.chart({ scope: { kind: 'cluster' }, from: new Date(THIS_HOUR + HOUR - DAY).toISOString(), to: new Date(THIS_HOUR + HOUR).toISOString(), cache: false });
    expect(views).toContain(chart.totals.pageViews.toLocaleString('en-US'));
    await session.screenshot('traffic-cluster-24h');
  });

  it('switches the table with the range: 7 d and 30 d daily, 5 y monthly, and back to 24 h served from the cache', async () => {
    await page.getByTestId('traffic-range').getByText('7 d').click();
    await answer('analytics_daily').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('traffic-reason').innerText()).toContain('from 3 days up to a year: daily rows');
    expect(Number(await page.getByTestId('traffic-chart').getAttribute('data-points'))).toBe(8);
    await page.getByTestId('traffic-range').getByText('30 d').click();
    await page.locator('[data-testid="traffic-chart"][data-points="31"]').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('traffic-table').textContent()).toBe('analytics_daily');
    await page.getByTestId('traffic-range').getByText('5 y').click();
    await answer('analytics_monthly').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('traffic-reason').innerText()).toContain('longer than a year: monthly rows');
    // Nothing is rolled up monthly: this month comes from the daily, hourly and raw rows, marked provisional.
    expect(await page.getByTestId('traffic-provisional-note').innerText()).toContain('not rolled up monthly yet');
    await page.getByTestId('traffic-range').getByText('24 h').click();
    await answer('analytics_hourly', 'hit').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('traffic-cache').textContent()).toBe('cache hit');
    expect(await page.getByTestId('traffic-cache-detail').innerText()).toMatch(/^[\d.]+ s old, kept 300 s, from (memory \(tracked copy\)|Redis)$/);
  });

  it('charts a custom range of days picked in the calendar: two days read hourly rows', async () => {
    await page.getByTestId('traffic-range').getByText('Custom').click();
    await page.getByTestId('traffic-choose').waitFor({ timeout: SHOWS_WITHIN_MS });
    // Until both days are picked there is no chart: the 24 h one is not left standing as if it answered.
    expect(await page.getByTestId('traffic-answer').count()).toBe(0);
    await page.getByTestId('traffic-custom-range').click();
    const dayLabel = (at: number) => new Date(at).toLocaleDateString('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
    const yesterday = THIS_HOUR - DAY;
    await page.getByRole('button', { name: dayLabel(yesterday), exact: true }).click();
    await page.getByRole('button', { name: dayLabel(THIS_HOUR), exact: true }).click();
    await answer('analytics_hourly').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('traffic-reason').innerText()).toBe('the range is 2 days, under 3 days: hourly rows');
    await page.keyboard.press('Escape');
    await page.getByTestId('traffic-range').getByText('24 h').click();
  });

  it('picks a site from the busiest by searching its id, and charts that site alone', async () => {
    await page.getByTestId('traffic-range').getByText('24 h').click();
    await page.getByTestId('traffic-scope').getByText('Site', { exact: true }).click();
    await page.getByTestId('traffic-choose').waitFor({ timeout: SHOWS_WITHIN_MS });
    const picker = page.getByTestId('traffic-site-picker');
    await picker.click();
    await picker.fill(String(busiest));
    await page.getByRole('option', { name: new RegExp(`^site ${busiest} · shard \\d`) }).click();
    await answer('analytics_hourly').waitFor({ timeout: SHOWS_WITHIN_MS });
    const chart = await cluster.services.traffic.chart({ scope: { kind: 'site', siteId: busiest }, from: new Date(THIS_HOUR + HOUR - DAY).toISOString(), to: new Date(THIS_HOUR + HOUR).toISOString(), cache: false });
    await page.getByText(chart.totals.pageViews.toLocaleString('en-US'), { exact: true }).first().waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('traffic-total-visitors').innerText()).toContain(chart.totals.visitors.toLocaleString('en-US'));
  });

  it('lists the top sites of the range', async () => {
    await page.getByTestId('traffic-scope').getByText('Top sites').click();
    await page.getByTestId('traffic-top').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId(`traffic-top-${busiest}`).count()).toBe(1);
    expect(await page.locator('[data-testid="traffic-top"] tbody tr').count()).toBe(10);
    await session.screenshot('traffic-top-sites');
  });
});
