import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCluster } from '../support/cluster';
import { SHOWS_WITHIN_MS, startConsoleSession, type ConsoleSession } from '../support/e2e';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** A little after the start of the current 5-minute bucket, so the recorded samples fall in real partitions. */
const START = Math.floor(Date.now() / (5 * MINUTE)) * 5 * MINUTE + 10_000;
const THIS_HOUR = Math.floor(START / HOUR) * HOUR;
const TODAY = Math.floor(START / DAY) * DAY;
const RECORDED_CYCLES = 5;

let session: ConsoleSession;
let cluster: TestCluster;
let page: Page;
/** The monitor's clock: the recorded cycles are spread over the last 40 minutes without waiting for them. */
let clock = new Date(START - 40 * MINUTE);

async function text(testId: string): Promise<string> {
  return page.getByTestId(testId).innerText();
}

describe('monitoring page in a real browser against a real 2-shard cluster', () => {
  beforeAll(async () => {
    session = await startConsoleSession({ shards: 2, services: { monitor: { now: () => clock } } });
    ({ cluster, page } = session);
    const services = cluster.services;
    // Yesterday's and today's traffic, rolled up hourly and daily (the chart queries need daily rows), moving the watermarks.
    await services.generator.run({ from: new Date(TODAY - DAY).toISOString(), to: new Date(THIS_HOUR).toISOString(), sites: 20, views: 8_000, seed: 21 });
    expect((await services.rollup.runDue('hourly', { trigger: 'manual' })).ok).toBe(true);
    expect((await services.rollup.runDue('daily', { trigger: 'manual' })).ok).toBe(true);
    for (let cycle = 0; cycle < RECORDED_CYCLES; cycle += 1) {
      clock = new Date(START - (RECORDED_CYCLES - 1 - cycle) * 10 * MINUTE);
      const snapshot = await services.monitor.runCycle({ record: true });
      expect(snapshot.recorded).toBe(true);
    }
  });

  afterAll(async () => {
    await session?.close();
  });

  it('shows the latest cycle’s figures of both shards against their targets, and CPU as not configured without a node exporter', async () => {
    await session.openPage('monitoring');
    await page.getByTestId('shard-figures').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await text('cycle-facts')).toContain('recorded');
    for (const shard of [0, 1]) {
      expect(await text(`figure-shard.up-${shard}`)).toBe('yes');
      expect(await text(`figure-chart.latency_ms-${shard}`)).toMatch(/^\d+(\.\d)? ms$/);
      expect(await text(`figure-shard.latency_ms-${shard}`)).toMatch(/^\d+(\.\d)? ms$/);
      expect(await text(`figure-shard.qps-${shard}`)).toMatch(/\/s$/);
      expect(await text(`figure-shard.buffer_pool_hit_ratio-${shard}`)).toMatch(/ %$/);
      // No node exporter in this profile: said so, never a 0 %.
      expect(await text(`figure-host.cpu_ratio-${shard}`)).toBe('not configured');
      expect(await text(`figure-host.memory_ratio-${shard}`)).toBe('not configured');
    }
    expect(await text('figure-row-chart.latency_ms')).toContain('alert > 100 ms for 2 min');
    expect(await text('figure-row-host.cpu_ratio')).toContain('alert > 80.0 % for 5 min');
    expect(await text('figure-redis.up')).toBe('yes');
    expect(await text('figure-queue.depth')).toMatch(/^\d[\d,]*$/);
    expect(await text('chart-cpu-empty')).toContain('Not configured');
    expect(await text('chart-memory-empty')).toContain('Not configured');
    expect(await page.getByTestId('monitoring-partial').count()).toBe(0);
  });

  it('draws the recorded cycles over the last hour with p50/p95/p99, and switches to 24 h and 7 d', async () => {
    await page.locator('[data-testid="charts"][data-range="1h"]').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(Number(await page.getByTestId('chart-latency').getAttribute('data-points'))).toBe(RECORDED_CYCLES * 2);
    expect(await page.locator('[data-testid="chart-latency"] canvas').count()).toBe(1);
    for (const shard of [0, 1]) {
      expect(await text(`percentiles-chart.latency_ms-${shard}`)).toMatch(new RegExp(`^shard${shard}\\s+chart queries\\s+[\\d.]+ ms\\s+[\\d.]+ ms\\s+[\\d.]+ ms$`));
      expect(await text(`percentiles-shard.latency_ms-${shard}`)).toMatch(/round trip\s+[\d.]+ ms\s+[\d.]+ ms\s+[\d.]+ ms$/);
    }
    // QPS needs two cycles to measure a rate: the first one is warming up.
    expect(Number(await page.getByTestId('chart-qps').getAttribute('data-points'))).toBe((RECORDED_CYCLES - 1) * 2);

    await page.getByTestId('range-picker').getByText('24 h').click();
    await page.locator('[data-testid="charts"][data-range="24h"]').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(Number(await page.getByTestId('chart-latency').getAttribute('data-points'))).toBeGreaterThan(0);
    await page.getByTestId('range-picker').getByText('7 d').click();
    await page.locator('[data-testid="charts"][data-range="7d"]').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(Number(await page.getByTestId('chart-latency').getAttribute('data-points'))).toBeGreaterThan(0);
    await session.screenshot('monitoring');
  });

  it('colours the lag heat-map by each shard’s and level’s watermark lag', async () => {
    for (const shard of [0, 1]) {
      // Hourly rolled up to this hour, daily to today: within their limits. No monthly rollup ran.
      const hourly = page.getByTestId(`lag-cell-${shard}-hourly`);
      expect(await hourly.getAttribute('data-tone')).toBe('good');
      expect(await hourly.innerText()).toMatch(/^\d+(\.\d)? (s|min)$/);
      expect(await page.getByTestId(`lag-cell-${shard}-daily`).getAttribute('data-tone')).toBe('good');
      const monthly = page.getByTestId(`lag-cell-${shard}-monthly`);
      expect(await monthly.getAttribute('data-tone')).toBe('idle');
      expect(await monthly.innerText()).toBe('no watermark yet');
    }
  });

  it('lists the config advisor’s findings per shard with the statement that fixes each', async () => {
    for (const shard of [0, 1]) {
      const pool = page.locator(`[data-testid="advisor-shard-${shard}"] [data-subject="innodb_buffer_pool_size"]`);
      await pool.waitFor({ timeout: SHOWS_WITHIN_MS });
      expect(await pool.innerText()).toContain('recommended');
    }
    const fixes = page.locator('[data-testid="advisor-shard-0"] [data-testid$="-fix"]');
    expect(await fixes.count()).toBeGreaterThan(0);
    expect(await fixes.first().innerText()).toMatch(/SET|ALTER|strata/);
    expect(await page.locator('[data-testid="advisor-shard-0"] [data-testid$="-copy"]').count()).toBe(await fixes.count());
    // What is already as recommended is folded away until asked for.
    const asRecommended = page.locator('[data-testid="advisor"] [data-severity="ok"]');
    expect(await asRecommended.count()).toBe(0);
    await page.getByTestId('advisor-toggle-ok').click();
    expect(await asRecommended.count()).toBeGreaterThan(0);
  });

  it('says which shard is missing as soon as a cycle finds it unreachable', async () => {
    await cluster.stopShard(1);
    try {
      clock = new Date(START + 30_000);
      const snapshot = await cluster.services.monitor.runCycle({ record: true });
      expect(snapshot.shards[1]?.reachable).toBe(false);
      const banner = page.getByTestId('monitoring-partial');
      await banner.waitFor({ timeout: SHOWS_WITHIN_MS });
      expect(await banner.getAttribute('data-missing')).toBe('shard1');
      expect(await text('figure-shard.up-1')).toBe('no');
      expect(await text('figure-shard.up-0')).toBe('yes');
      expect(await page.getByTestId('lag-cell-0-hourly').getAttribute('data-tone')).toBe('good');
      expect(await page.getByTestId('lag-cell-1-hourly').getAttribute('data-tone')).toBe('idle');
    } finally {
      await cluster.startShard(1);
    }
    expect(session.pageErrors).toEqual([]);
  });
});

describe('monitoring page with the shards’ node exporter', () => {
  let exporterSession: ConsoleSession;
  let exporterClock = new Date(START);

  beforeAll(async () => {
    exporterSession = await startConsoleSession({ shards: 2, nodeExporter: true, services: { monitor: { now: () => exporterClock } } });
    // CPU is a rate between two scrapes: the first cycle only warms up.
    for (let cycle = 0; cycle < 3; cycle += 1) {
      exporterClock = new Date(START + cycle * 30_000);
      await exporterSession.cluster.services.monitor.runCycle({ record: true });
    }
  });

  afterAll(async () => {
    await exporterSession?.close();
  });

  it('shows CPU and memory of every shard’s host, drawn over time below their 80 % and 85 % lines', async () => {
    page = exporterSession.page;
    await exporterSession.openPage('monitoring');
    await page.getByTestId('shard-figures').waitFor({ timeout: SHOWS_WITHIN_MS });
    for (const shard of [0, 1]) {
      expect(await text(`figure-host.cpu_ratio-${shard}`)).toMatch(/^\d+\.\d %$/);
      expect(await text(`figure-host.memory_ratio-${shard}`)).toMatch(/^\d+\.\d %$/);
    }
    await page.locator('[data-testid="charts"][data-range="1h"]').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(Number(await page.getByTestId('chart-cpu').getAttribute('data-points'))).toBe(2 * 2);
    expect(Number(await page.getByTestId('chart-memory').getAttribute('data-points'))).toBe(3 * 2);
    expect(await page.locator('[data-testid="chart-cpu"] canvas').count()).toBe(1);
    expect(await page.locator('[data-testid^="chart-cpu-not-configured"], [data-testid="chart-cpu-empty"]').count()).toBe(0);
    await exporterSession.screenshot('monitoring-node-exporter');
    expect(exporterSession.pageErrors).toEqual([]);
  });
});
