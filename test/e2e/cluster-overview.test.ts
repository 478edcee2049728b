import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCluster } from '../support/cluster';
import { SHOWS_WITHIN_MS, startConsoleSession, type ConsoleSession } from '../support/e2e';

let session: ConsoleSession;
let cluster: TestCluster;
let page: Page;

beforeAll(async () => {
  session = await startConsoleSession({ shards: 2 });
  ({ cluster, page } = session);
});

afterAll(async () => {
  await session?.close();
});

function statusBadge(shardIndex: number, text: 'up' | 'DOWN') {
  return page.getByTestId(`shard-status-${shardIndex}`).filter({ hasText: new RegExp(`^${text}$`) });
}

describe('cluster overview in a real browser against a real 2-shard cluster', () => {
  it('opens with the token and then keeps it out of the address bar', async () => {
    await page.goto(session.host.url);
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
    await session.screenshot('cluster-overview-healthy');
  });

  it('refreshes by itself: the last-checked time moves on without a reload', async () => {
    const lastChecked = page.getByTestId('last-checked');
    const first = await lastChecked.getAttribute('data-updated-at');
    await page.locator(`[data-testid="last-checked"]:not([data-updated-at="${first}"])`).waitFor({ timeout: SHOWS_WITHIN_MS });
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
    await session.screenshot('cluster-overview-shard-down');
  });

  it('shows the shard up again once it is back', async () => {
    await cluster.startShard(1);
    await statusBadge(1, 'up').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('health-banner').getAttribute('data-health')).toBe('healthy');
  });

  it('ran without script errors or CSP violations in the page', () => {
    expect(session.pageErrors).toEqual([]);
  });
});
