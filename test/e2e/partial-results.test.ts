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
  const hour = new Date(Date.UTC(2026, 10, 20, 5));
  await cluster.services.rollup.runRange('hourly', hour, new Date(hour.getTime() + 3_600_000), { trigger: 'manual', fencingToken: 0 });
});

afterAll(async () => {
  await session?.close();
});

describe('a page that reads several shards, in a real browser, with one shard stopped', () => {
  it('the Jobs page says its run history lacks the stopped shard, with the reason, and drops the banner once it is back', async () => {
    await session.openPage('jobs');
    await page.locator('[data-testid="run-row"][data-shard="shard1"]').first().waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.locator('[data-testid="runs-partial"]').count()).toBe(0);

    await cluster.stopShard(1);
    try {
      const banner = page.locator('[data-testid="runs-partial"]');
      await banner.waitFor({ timeout: SHOWS_WITHIN_MS });
      expect(await banner.getAttribute('data-missing')).toBe('shard1');
      const text = await banner.innerText();
      expect(text).toContain('Partial result: shard1 could not be read; the run history below leaves it out');
      expect(text).toMatch(/Shard unreachable — shard1 \(127\.0\.0\.1:\d+\): connection refused/);
      // The other shard's runs stay on the page; the stopped shard's are gone with it.
      expect(await page.locator('[data-testid="run-row"][data-shard="shard0"]').count()).toBeGreaterThan(0);
      await session.screenshot('jobs-partial-result');
    } finally {
      await cluster.startShard(1);
    }
    await page.locator('[data-testid="runs-partial"]').waitFor({ state: 'detached', timeout: SHOWS_WITHIN_MS });
  });
});
