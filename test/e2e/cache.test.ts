import { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCluster } from '../support/cluster';
import { SHOWS_WITHIN_MS, startConsoleSession, type ConsoleSession } from '../support/e2e';

const DAY = 86_400_000;
const D0 = Math.floor(Date.now() / DAY) * DAY - DAY;
const date = (offsetDays: number) => new Date(D0 + offsetDays * DAY).toISOString().slice(0, 10);
const PREFIX = 'laravel_database_laravel_cache_:';
/** Site 5's keys: two over yesterday, one over three days ago; site 6 has one. */
const SITE5_YESTERDAY = [`${PREFIX}chart_5_1d_${date(0)}_${date(0)}`, `${PREFIX}chart_5_30d_${date(-29)}_${date(0)}`];
const SITE5_OLDER = `${PREFIX}chart_5_1d_${date(-3)}_${date(-3)}`;
const SITE6 = `${PREFIX}site_6_stats_24h`;

let session: ConsoleSession;
let cluster: TestCluster;
let page: Page;
let redis: Redis;

const rowKeys = async () => (await page.getByTestId('cache-key-row').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-key') ?? ''))).sort();

describe('cache page in a real browser against a real 2-shard cluster and Redis', () => {
  beforeAll(async () => {
    session = await startConsoleSession({ shards: 2 });
    ({ cluster, page } = session);
    redis = new Redis(cluster.profile.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
    for (const key of [...SITE5_YESTERDAY, SITE5_OLDER]) await redis.set(key, '{"views":[1,2,3]}', 'EX', 3600);
    await redis.set(SITE6, '{"views":7}', 'EX', 300);
    await cluster.services.cache.invalidate({ siteId: 999, dryRun: false });
    // The application reading its charts (enough lookups for a hit ratio), and two recorded probe cycles of it.
    const reads = redis.pipeline();
    for (let read = 0; read < 1200; read += 1) reads.get(read % 4 === 0 ? `${PREFIX}chart_7_1d_${date(0)}_${date(0)}` : SITE5_OLDER);
    await reads.exec();
    for (let cycle = 0; cycle < 2; cycle += 1) expect((await cluster.services.monitor.runCycle({ record: true })).recorded).toBe(true);
  });

  afterAll(async () => {
    redis?.disconnect();
    await session?.close();
  });

  it('shows the figures and every key of the application with its TTL and size', async () => {
    await session.openPage('cache');
    await page.getByTestId('cache-keys-table').waitFor({ timeout: SHOWS_WITHIN_MS });
    await expect.poll(rowKeys, { timeout: SHOWS_WITHIN_MS }).toEqual([...SITE5_YESTERDAY, SITE5_OLDER, SITE6].sort());
    const ttl = await page.locator(`[data-key="${SITE6}"] [data-testid="cache-key-ttl"]`).innerText();
    expect(ttl).toMatch(/^(\d+ s|[45] min)$/);
    expect(await page.getByTestId('cache-key-count').innerText()).toContain('3 chart, 1 stats over 2 sites');
    expect(await page.getByTestId('cache-top-sites').innerText()).toMatch(/site 5 · 3\s+site 6 · 1/);
    expect(await page.getByTestId('cache-memory').innerText()).toMatch(/MEMORY\s+[\d.]+ (B|KiB|MiB)/i);
    expect(await page.getByTestId('cache-log-table').innerText()).toMatch(/By hand\s+site 999\s+0/);
    // The monitor's samples of the hit ratio: in 5-minute buckets over 24 h, each sample over the last hour.
    await expect.poll(async () => Number(await page.getByTestId('cache-hit-chart').getAttribute('data-points')), { timeout: SHOWS_WITHIN_MS }).toBeGreaterThan(0);
    await page.getByTestId('cache-range').getByText('1 h').click();
    await expect.poll(() => page.getByTestId('cache-hit-chart').getAttribute('data-points'), { timeout: SHOWS_WITHIN_MS }).toBe('2');
    // 3 of 4 reads above were hits (Redis counts every client's lookups, Strata's own among them).
    const hitRatio = await page.getByTestId('cache-hit-ratio').innerText();
    expect(Number(/([\d.]+) %/.exec(hitRatio)?.[1])).toBeGreaterThan(60);
    expect(Number(/([\d,]+) hits/.exec(hitRatio)?.[1]?.replace(/,/g, ''))).toBeGreaterThanOrEqual(900);
    expect(session.pageErrors).toEqual([]);
  });

  it('invalidates a site’s days only after a confirmation showing the count, and logs it', async () => {
    await page.getByTestId('cache-site').fill('5');
    await expect.poll(rowKeys, { timeout: SHOWS_WITHIN_MS }).toEqual([...SITE5_YESTERDAY, SITE5_OLDER].sort());
    await page.getByTestId('cache-from').fill(date(0));
    await page.getByTestId('cache-to').fill(date(0));
    await page.getByTestId('cache-invalidate').click();
    await page.getByTestId('cache-confirm-count').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('cache-confirm-count').innerText()).toMatch(/^2 keys of site 5 from .* will be deleted/);
    // The dry run behind the count deleted nothing.
    expect(await redis.exists(...SITE5_YESTERDAY)).toBe(2);
    await page.getByTestId('cache-confirm-cancel').click();
    expect(await redis.exists(...SITE5_YESTERDAY)).toBe(2);

    await page.getByTestId('cache-invalidate').click();
    await page.getByTestId('cache-confirm-count').waitFor({ timeout: SHOWS_WITHIN_MS });
    await page.getByTestId('cache-confirm-run').click();
    await page.getByTestId('cache-invalidate-result').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('cache-invalidate-result').innerText()).toMatch(/^Deleted 2 keys of site 5/);
    expect(await redis.exists(...SITE5_YESTERDAY)).toBe(0);
    expect(await redis.exists(SITE5_OLDER, SITE6)).toBe(2);
    await expect.poll(rowKeys, { timeout: SHOWS_WITHIN_MS }).toEqual([SITE5_OLDER]);
    await expect.poll(() => page.getByTestId('cache-log-row').first().innerText(), { timeout: SHOWS_WITHIN_MS }).toMatch(/By hand\s+site 5, .*\s+2$/);
    await session.screenshot('cache-page');
    expect(session.pageErrors).toEqual([]);
  });
});
