import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/main/log';
import { startWebHost, type WebHost } from '../../src/main/webhost/server';
import { startTestCluster, type TestCluster } from '../support/cluster';

const RENDERER_DIR = fileURLToPath(new URL('../../out/renderer', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('../../test-results', import.meta.url));
const CHROMIUM = '/usr/lib/chromium/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** A deadline, not a speed target: the page polls every 2 s and a refused connection is reported at once. */
const SHOWS_WITHIN_MS = 15_000;

let cluster: TestCluster;
let host: WebHost;
let browserProfile: string;
let browser: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) throw new Error(`${RENDERER_DIR} is missing: run npm run build before the e2e tests`);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  await mkdir(RESULTS_DIR, { recursive: true });
  cluster = await startTestCluster({ shards: 2 });
  host = await startWebHost({ services: cluster.services, logger: silentLogger, rendererDir: RENDERER_DIR });
  browserProfile = await mkdtemp(join(tmpdir(), 'strata-e2e-chromium-'));
  browser = await chromium.launchPersistentContext(browserProfile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 900 },
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  // A CSP violation or a crash shows up here even when the page still looks fine.
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
});

afterAll(async () => {
  await browser?.close();
  await host?.close();
  await cluster?.down();
  if (browserProfile) await rm(browserProfile, { recursive: true, force: true });
});

function statusBadge(shardIndex: number, text: 'up' | 'DOWN') {
  return page.getByTestId(`shard-status-${shardIndex}`).filter({ hasText: new RegExp(`^${text}$`) });
}

describe('cluster overview in a real browser against a real 2-shard cluster', () => {
  it('opens with the token and then keeps it out of the address bar', async () => {
    await page.goto(host.url);
    expect(new URL(page.url()).search).toBe('');
    await page.getByTestId('page-cluster-overview').waitFor();
    expect(await page.getByTestId('nav-cluster-overview').textContent()).toBe('Cluster overview');
  });

  it('shows both shards and Redis up, with versions and schema, and a healthy banner', async () => {
    await statusBadge(0, 'up').waitFor({ timeout: SHOWS_WITHIN_MS });
    await statusBadge(1, 'up').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('redis-status').textContent()).toBe('up');
    expect(await page.getByTestId('health-banner').getAttribute('data-health')).toBe('healthy');
    const shardRow = await page.getByTestId('shard-row-1').innerText();
    expect(shardRow).toContain('shard1');
    expect(shardRow).toContain(`127.0.0.1:${cluster.profile.shards[1]!.port}/${cluster.profile.shards[1]!.database}`);
    expect(shardRow).toMatch(/MariaDB \d+\.\d+\.\d+/);
    expect(shardRow).toMatch(/v\d+/);
    expect(await page.getByTestId('redis-row').innerText()).toMatch(/Redis \d+\.\d+/);
    await page.screenshot({ path: join(RESULTS_DIR, 'cluster-overview-healthy.png'), fullPage: true });
  });

  it('refreshes by itself: the last-checked time moves on without a reload', async () => {
    const lastChecked = page.getByTestId('last-checked');
    const first = await lastChecked.getAttribute('data-checked-at');
    await page.locator(`[data-testid="last-checked"]:not([data-checked-at="${first}"])`).waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await lastChecked.innerText()).toMatch(/Live · checked \d\d:\d\d:\d\d/);
  });

  it('marks a stopped shard DOWN with the reason while the other shard stays up', async () => {
    await cluster.stopShard(1);
    await statusBadge(1, 'DOWN').waitFor({ timeout: SHOWS_WITHIN_MS });
    // The first failed probe may catch the pooled connection dying ("lost"), later ones find nothing listening.
    expect(await page.getByTestId('shard-problem-1').innerText()).toMatch(/^Shard unreachable — shard1 \(127\.0\.0\.1:\d+\): connection (refused|lost)/);
    expect(await page.getByTestId('shard-status-0').textContent()).toBe('up');
    const banner = page.getByTestId('health-banner');
    expect(await banner.getAttribute('data-health')).toBe('unhealthy');
    expect(await banner.innerText()).toContain('shard1 is DOWN: shard unreachable');
    await page.screenshot({ path: join(RESULTS_DIR, 'cluster-overview-shard-down.png'), fullPage: true });
  });

  it('shows the shard up again once it is back', async () => {
    await cluster.startShard(1);
    await statusBadge(1, 'up').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('health-banner').getAttribute('data-health')).toBe('healthy');
  });

  it('ran without script errors or CSP violations in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
