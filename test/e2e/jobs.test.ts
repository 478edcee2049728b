import { hostname } from 'node:os';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LeaseGrant } from '../../src/main/lease/lease';
import type { RollupReport } from '../../src/shared/rollup';
import type { TestCluster } from '../support/cluster';
import { SHOWS_WITHIN_MS, startConsoleSession, type ConsoleSession } from '../support/e2e';

const HOUR_MS = 3_600_000;
/** The completed hours that get traffic: the page must show each of them rolled up on each shard. */
const TRAFFIC_HOURS = 4;

let session: ConsoleSession;
let cluster: TestCluster;
let page: Page;
let thisHour: Date;
let hourlyReport: RollupReport;
let dailyReport: RollupReport;

const hoursAgo = (hours: number) => new Date(thisHour.getTime() - hours * HOUR_MS);

/** `2025-03-01 14:00–15:00`, as the page writes an hourly window. */
function hourlyWindowText(start: Date): string {
  const iso = start.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}–${new Date(start.getTime() + HOUR_MS).toISOString().slice(11, 16)}`;
}

function runRow(shardName: string, windowStart: string) {
  return page.locator(`[data-testid="run-row"][data-level="hourly"][data-shard="${shardName}"][data-window-start="${windowStart}"]`);
}

beforeAll(async () => {
  session = await startConsoleSession({ shards: 2 });
  ({ cluster, page } = session);
  thisHour = new Date(Math.floor(Date.now() / HOUR_MS) * HOUR_MS);
  await cluster.services.generator.run({ from: hoursAgo(TRAFFIC_HOURS).toISOString(), to: thisHour.toISOString(), sites: 40, views: 4_000, seed: 11 });
  hourlyReport = await cluster.services.rollup.runDue('hourly', { trigger: 'manual' });
  dailyReport = await cluster.services.rollup.runDue('daily', { trigger: 'manual' });
});

afterAll(async () => {
  await session?.close();
});

describe('jobs page in a real browser against a real 2-shard cluster', () => {
  it('rolled up the generated hours on both shards (the setup the page is checked against)', () => {
    expect(hourlyReport.ok).toBe(true);
    expect(dailyReport.ok).toBe(true);
    for (const shard of hourlyReport.shards) expect(shard.watermarkAfter).toBe(thisHour.toISOString());
  });

  it('lists every rolled-up hour of each shard with its window, trigger, host, outcome and row counts', async () => {
    await session.openPage('jobs');
    for (const shard of hourlyReport.shards) {
      for (let hour = 1; hour <= TRAFFIC_HOURS; hour += 1) {
        const windowStart = hoursAgo(hour).toISOString();
        const window = shard.windows.find((candidate) => candidate.windowStart === windowStart);
        expect(window?.rowsRead, `${shard.shardName} ${windowStart} read raw rows`).toBeGreaterThan(0);
        const row = runRow(shard.shardName, windowStart);
        await row.waitFor({ timeout: SHOWS_WITHIN_MS });
        expect(await row.getAttribute('data-outcome')).toBe('ok');
        const cells = await row.locator('td').allInnerTexts();
        expect(cells.slice(1, 7)).toEqual(['hourly', shard.shardName, hourlyWindowText(hoursAgo(hour)), 'manual', hostname(), 'ok']);
        expect(cells[7]).toBe(window!.rowsRead.toLocaleString('en-US'));
        expect(cells[8]).toBe(window!.rowsWritten.toLocaleString('en-US'));
        expect(cells[9]).toMatch(/^\d+(\.\d+)? (ms|s)$/);
      }
    }
    await session.screenshot('jobs-rolled-up');
  });

  it('draws the aggregation-time chart with a point for every finished window', async () => {
    const chart = page.getByTestId('aggregation-chart');
    const recorded = await cluster.services.rollup.runs({ limit: 500 });
    expect(await chart.getAttribute('data-points')).toBe(String(recorded.filter((run) => run.durationMs !== null).length));
    const canvas = chart.locator('canvas');
    const box = await canvas.boundingBox();
    expect(box?.width).toBeGreaterThan(600);
    expect(box?.height).toBeGreaterThan(200);
    // Something was painted: axes, points and the alert line leave non-transparent pixels.
    const paintedPixels = await canvas.evaluate((element) => {
      // Runs in the page; the test's own compiler settings have no DOM types.
      const drawn = element as unknown as { width: number; height: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
      const { data } = drawn.getContext('2d').getImageData(0, 0, drawn.width, drawn.height);
      let painted = 0;
      for (let alpha = 3; alpha < data.length; alpha += 4) if (data[alpha]! > 0) painted += 1;
      return painted;
    });
    expect(paintedPixels).toBeGreaterThan(1000);
  });

  it('filters the history by level', async () => {
    await page.getByTestId('level-filter').getByText('daily', { exact: true }).click();
    await page.locator('[data-testid="run-row"][data-level="hourly"]').first().waitFor({ state: 'detached', timeout: SHOWS_WITHIN_MS });
    const levels = await page.locator('[data-testid="run-row"]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-level')));
    expect(levels.length).toBe(dailyReport.shards.flatMap((shard) => shard.windows).length);
    expect(new Set(levels)).toEqual(new Set(['daily']));
    await page.getByTestId('level-filter').getByText('all levels', { exact: true }).click();
    await runRow('shard0', hoursAgo(1).toISOString()).waitFor({ timeout: SHOWS_WITHIN_MS });
  });

  it('shows each shard’s watermark per level, on time after the rollup', async () => {
    for (const shard of [0, 1]) {
      const hourly = page.getByTestId(`watermark-hourly-${shard}`);
      await hourly.waitFor({ timeout: SHOWS_WITHIN_MS });
      expect(await hourly.getByTestId('watermark-value').innerText()).toBe(thisHour.toISOString().slice(0, 16).replace('T', ' '));
      expect(await hourly.getAttribute('data-lag-state')).toBe('on-time');
      expect(await page.getByTestId(`watermark-daily-${shard}`).getAttribute('data-lag-state')).toBe('on-time');
      expect(await page.getByTestId(`watermark-monthly-${shard}`).getAttribute('data-lag-state')).toBe('not-started');
    }
  });

  it('highlights a shard whose hourly watermark is more than two hours behind', async () => {
    // As if shard1's rollups had stalled five hours ago: only its watermark is moved back.
    await cluster.services.connections.query(1, "UPDATE strata_watermarks SET watermark = ? WHERE level = 'hourly'", [hoursAgo(5)]);
    const stalled = page.locator('[data-testid="watermark-hourly-1"][data-lag-state="behind"]');
    await stalled.waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await stalled.getByTestId('watermark-state').innerText()).toBe('BEHIND');
    expect(await stalled.getByTestId('watermark-lag').innerText()).toMatch(/^5 h \d\d min$/);
    expect(await page.getByTestId('watermark-hourly-0').getAttribute('data-lag-state')).toBe('on-time');
    await session.screenshot('jobs-shard-behind');
  });

  it('shows a failed window with its error', async () => {
    // A table missing on one shard is a real way for a window to fail; the engine records the failure.
    const failingHour = hoursAgo(2);
    await cluster.services.connections.query(1, 'RENAME TABLE analytics_hourly TO analytics_hourly_away');
    let report: RollupReport;
    try {
      report = await cluster.services.rollup.runRange('hourly', failingHour, hoursAgo(1), { trigger: 'backfill', shards: [1] });
    } finally {
      await cluster.services.connections.query(1, 'RENAME TABLE analytics_hourly_away TO analytics_hourly');
    }
    const failure = report.shards[0]!.windows[0]!;
    expect(failure.outcome).toBe('failed');
    const failedRow = page.locator(`[data-testid="run-row"][data-outcome="failed"][data-shard="shard1"][data-window-start="${failingHour.toISOString()}"]`);
    await failedRow.waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await failedRow.getByTestId('run-outcome').innerText()).toBe('FAILED');
    expect(await page.getByTestId('run-error').first().innerText()).toContain(failure.error!);
    expect(await page.getByTestId('trouble-card').innerText()).toMatch(/1 \/ \d+/);
    await session.screenshot('jobs-failed-window');
  });

  it('says nobody holds the scheduler lease, then who does once a scheduler takes it', async () => {
    const leaseCard = page.getByTestId('lease-card');
    await leaseCard.getByText('nobody', { exact: true }).waitFor({ timeout: SHOWS_WITHIN_MS });
    const grant: LeaseGrant | undefined = await cluster.services.lease.tryAcquire();
    expect(grant).toBeDefined();
    try {
      await leaseCard.getByText(grant!.holder.host, { exact: true }).waitFor({ timeout: SHOWS_WITHIN_MS });
      expect(await leaseCard.innerText()).toContain(`pid ${grant!.holder.pid} · token ${grant!.holder.token}`);
      await session.screenshot('jobs-lease-held');
    } finally {
      await cluster.services.lease.release(grant!);
    }
  });

  it('reconciles an hour with late rows: the dry run shows raw and hourly totals, the re-roll makes them equal', async () => {
    const late = hoursAgo(3);
    const pageViews = async (sql: string) => Number((await cluster.services.connections.query<Array<{ n: number | string | null }>>(0, sql, [late, hoursAgo(2)]))[0]?.n ?? 0);
    const raw = () => pageViews('SELECT COUNT(*) AS n FROM analytics_realtime WHERE created_at >= ? AND created_at < ?');
    const hourly = () => pageViews('SELECT SUM(page_views) AS n FROM analytics_hourly WHERE hour_start >= ? AND hour_start < ?');
    // 30 page views of shard0's sites, written after their hour was rolled up.
    await cluster.services.connections.query(0, "INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) SELECT 2 * (seq % 5), ? + INTERVAL seq MINUTE, seq, '/late' FROM seq_1_to_30", [late]);
    const [rawBefore, hourlyBefore] = [await raw(), await hourly()];
    expect(rawBefore).toBe(hourlyBefore + 30);

    await page.getByTestId('reconcile-now').click();
    const planned = page.locator(`[data-testid="reconcile-plan-window"][data-level="hourly"][data-window-start="${late.toISOString()}"]`);
    await planned.waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await planned.getAttribute('data-action')).toBe('would-re-roll');
    expect(await planned.innerText()).toContain(`raw ${rawBefore.toLocaleString('en-US')} vs hourly ${hourlyBefore.toLocaleString('en-US')}`);
    expect(await page.getByTestId('reconcile-plan-shard-1').getAttribute('data-outcome')).toBe('matched');
    expect(await hourly()).toBe(hourlyBefore);
    await session.screenshot('jobs-reconcile-plan');

    await page.getByTestId('reconcile-confirm-run').click();
    const done = page.locator('[data-testid="reconcile-result-shard-0"][data-outcome="repaired"]');
    await done.waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await done.locator(`[data-testid="reconcile-result-window"][data-window-start="${late.toISOString()}"]`).getAttribute('data-action')).toBe('re-rolled');
    expect(await hourly()).toBe(rawBefore);
    await page.locator('[data-testid="reconcile-run"][data-shard="shard0"][data-outcome="repaired"]').waitFor({ timeout: SHOWS_WITHIN_MS });
    await session.screenshot('jobs-reconciled');
  });

  it('ran without script errors or CSP violations in the page', () => {
    expect(session.pageErrors).toEqual([]);
  });
});
