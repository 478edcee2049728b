import { hostname } from 'node:os';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RETENTION_SETTINGS } from '../../src/shared/retention';
import type { TestCluster } from '../support/cluster';
import { SHOWS_WITHIN_MS, startConsoleSession, type ConsoleSession } from '../support/e2e';

const HOUR = 3_600_000;
const H = Math.floor(Date.now() / HOUR) * HOUR;
const hour = (offset: number) => new Date(H + offset * HOUR);
const iso = (at: Date) => at.toISOString().replace('.000Z', 'Z');
const partitionOfHour = (at: Date) => `p${at.toISOString().slice(0, 13).replace(/[-T]/g, '')}`;
/** Ten hours of traffic a day ago, all past a 6-hour raw retention; only the first five get rolled up. */
const OLD_HOURS = Array.from({ length: 10 }, (_, index) => hour(-30 + index));
const ROLLED_UP = OLD_HOURS.slice(0, 5);
const NOT_ROLLED_UP = OLD_HOURS.slice(5);

let session: ConsoleSession;
let cluster: TestCluster;
let page: Page;
/** Raw rows per shard and hour, as generated. */
const generated = new Map<string, number>();
const key = (shard: number, at: Date) => `${shard} ${at.toISOString()}`;

async function rawRows(shard: number, at: Date): Promise<number> {
  const [row] = await cluster.services.connections.query<Array<{ n: number }>>(shard, 'SELECT COUNT(*) AS n FROM analytics_realtime WHERE created_at >= ? AND created_at < ?', [at, new Date(at.getTime() + HOUR)]);
  return Number(row?.n);
}

async function rawPartitionNames(shard: number): Promise<string[]> {
  const rows = await cluster.services.connections.query<Array<{ name: string }>>(
    shard,
    "SELECT PARTITION_NAME AS name FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'analytics_realtime'",
  );
  return rows.map((row) => row.name);
}

const setting = (name: string) => page.getByTestId(`policy-${name}`);

beforeAll(async () => {
  session = await startConsoleSession({ shards: 2 });
  ({ cluster, page } = session);
  await cluster.services.generator.run({ from: OLD_HOURS[0]!.toISOString(), to: hour(-20).toISOString(), sites: 8, views: 4_000, seed: 21 });
  for (const shard of [0, 1]) for (const at of OLD_HOURS) generated.set(key(shard, at), await rawRows(shard, at));
  for (const shard of [0, 1]) expect(NOT_ROLLED_UP.every((at) => generated.get(key(shard, at))! > 0)).toBe(true);
  expect((await cluster.services.rollup.runRange('hourly', ROLLED_UP[0]!, NOT_ROLLED_UP[0]!, { trigger: 'manual' })).ok).toBe(true);
});

afterAll(async () => {
  await session?.close();
});

describe('retention page in a real browser against a real 2-shard cluster', () => {
  it('shows the built-in policy with each minimum and its reason', async () => {
    await session.openPage('retention');
    expect(await page.getByTestId('nav-retention').innerText()).toBe('Retention');
    await page.getByTestId('policy-editor').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('policy-changed').innerText()).toBe('built-in defaults');
    expect(await setting('rawHours').inputValue()).toBe('48 hours');
    expect(await setting('dailyDays').inputValue()).toBe('365 days');
    expect(await setting('batchRows').inputValue()).toBe('5,000 rows');
    expect(await setting('rawHours-minimum').innerText()).toBe('at least 5 hours: the hourly rollup re-reads the last 3 hours of raw rows every hour');
    expect(await setting('dailyDays-minimum').innerText()).toBe('at least 32 days: the monthly rollup reads every day of a month on the 1st of the next month');
    expect(await page.getByTestId('runs-empty').innerText()).toBe('No prune has run yet.');
    await session.screenshot('retention-defaults');
  });

  it('saves an edited value, which is still there after a reload', async () => {
    await setting('hourlyDays').fill('30');
    await page.getByTestId('policy-save').click();
    await page.locator('[data-testid="policy-changed"]', { hasText: /^changed by / }).waitFor({ timeout: SHOWS_WITHIN_MS });
    const stored = await cluster.services.retention.policy();
    expect(stored.policy).toEqual({ ...DEFAULT_RETENTION_SETTINGS, hourlyDays: 30 });
    expect(await page.getByTestId('policy-changed').innerText()).toContain(stored.changedBy!);

    await page.reload();
    await page.getByTestId('policy-editor').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await setting('hourlyDays').inputValue()).toBe('30 days');
    expect(await setting('hourlyDays-help').innerText()).toBe('analytics_hourly · default 7');
  });

  it('refuses a raw retention below the minimum with the reason, and the stored policy stays as it was', async () => {
    const before = await cluster.services.retention.policy();
    await setting('rawHours').fill('4');
    expect(await setting('rawHours-help').innerText()).toBe('analytics_realtime · default 48 · stored 48');
    await page.getByTestId('policy-save').click();
    const refusal = page.getByTestId('policy-refusal');
    await refusal.waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await refusal.innerText()).toBe(
      "Retention policy refused: nothing was changed\nrawHours 4 is shorter than the next level's rollup lag: keep at least 5 hours, because the hourly rollup re-reads the last 3 hours of raw rows every hour",
    );
    expect(await setting('rawHours').inputValue()).toBe('4 hours');
    expect(await cluster.services.retention.policy()).toEqual(before);
    await session.screenshot('retention-refused');
    await page.getByTestId('policy-discard').click();
    expect(await setting('rawHours').inputValue()).toBe('48 hours');
    expect(await refusal.count()).toBe(0);
  });

  it('dry run: drops the partitions of rolled-up hours past retention and keeps the hours not rolled up, with the reason', async () => {
    await setting('rawHours').fill('6');
    await page.getByTestId('policy-save').click();
    await page.locator('[data-testid="policy-rawHours-help"]', { hasText: /^analytics_realtime · default 48$/ }).waitFor({ timeout: SHOWS_WITHIN_MS });
    expect((await cluster.services.retention.policy()).policy.rawHours).toBe(6);

    const askedAt = Date.now();
    await page.getByTestId('prune-dry-run').click();
    const report = page.locator('[data-testid="prune-report"][data-dry-run="true"]');
    await report.waitFor({ timeout: SHOWS_WITHIN_MS });
    const answeredAt = Date.now();
    for (const shard of [0, 1]) {
      for (const at of ROLLED_UP) {
        const drop = page.locator(`[data-testid="prune-drop"][data-shard="${shard}"][data-table="analytics_realtime"][data-key="${partitionOfHour(at)}"]`);
        expect(await drop.count()).toBe(1);
        expect((await drop.locator('td').allInnerTexts()).at(-2)).toBe(generated.get(key(shard, at))!.toLocaleString('en-US'));
      }
      for (const at of NOT_ROLLED_UP) {
        expect(await page.locator(`[data-testid="prune-drop"][data-shard="${shard}"][data-key="${partitionOfHour(at)}"]`).count()).toBe(0);
        const kept = page.locator(`[data-testid="kept-window"][data-shard="${shard}"][data-table="analytics_realtime"][data-window-start="${iso(at)}"]`);
        expect(await kept.getAttribute('data-reason')).toBe('not-rolled-up');
        expect(await kept.getByTestId('kept-message').innerText()).toMatch(
          new RegExp(`^raw ${iso(at)}–${iso(new Date(at.getTime() + HOUR))} is past retention but the hourly rollup has not covered it .*; kept until it is rolled up: strata rollup --level hourly --from ${iso(at)} --to `),
        );
      }
      const raw = page.locator(`[data-testid="prune-table-row"][data-shard="${shard}"][data-table="analytics_realtime"]`);
      expect(await raw.getAttribute('data-kept')).toBe(String(NOT_ROLLED_UP.length));
      // The cutoff is six hours before the dry run, shown to the minute.
      const cutoff = Date.parse(`${(await raw.locator('td').nth(2).innerText()).replace(' ', 'T')}:00Z`);
      expect(cutoff).toBeGreaterThanOrEqual(Math.floor((askedAt - 6 * HOUR) / 60_000) * 60_000);
      expect(cutoff).toBeLessThanOrEqual(answeredAt - 6 * HOUR);
    }
    // Nothing changed yet.
    for (const shard of [0, 1]) for (const at of OLD_HOURS) expect(await rawRows(shard, at)).toBe(generated.get(key(shard, at)));
    await session.screenshot('retention-dry-run');
  });

  it('prunes after a confirmation with progress, removes the rolled-up hours only, and lists the run', async () => {
    await page.getByTestId('prune-now').click();
    const summary = page.getByTestId('prune-confirm-shard-0');
    await summary.waitFor({ timeout: SHOWS_WITHIN_MS });
    const rolledUpRows0 = ROLLED_UP.reduce((sum, at) => sum + generated.get(key(0, at))!, 0);
    expect(await summary.innerText()).toMatch(new RegExp(`^shard0: raw ${rolledUpRows0.toLocaleString('en-US')} rows \\(\\d+ partitions\\) · ${NOT_ROLLED_UP.length} windows kept back$`));
    await session.screenshot('retention-confirm');
    await page.getByTestId('prune-confirm-run').click();

    const progress = page.locator('[data-testid="prune-progress"][data-state="done"]');
    await progress.waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(Number(await progress.getAttribute('data-events'))).toBeGreaterThan(0);
    expect(await page.getByTestId('prune-progress-0-analytics_realtime').getAttribute('data-state')).toBe('done');
    const result = page.locator('[data-testid="prune-report"][data-dry-run="false"]');
    await result.waitFor({ timeout: SHOWS_WITHIN_MS });
    for (const shard of [0, 1]) {
      const raw = result.locator(`[data-testid="prune-table-row"][data-shard="${shard}"][data-table="analytics_realtime"]`);
      expect(Number(await raw.getAttribute('data-dropped'))).toBe(Number(await raw.getAttribute('data-drops')));
      expect(await raw.getAttribute('data-deleted')).toBe('0');
      expect(await raw.getAttribute('data-stopped-by')).toBeNull();
      expect(await raw.getByTestId('prune-result').innerText()).toMatch(/^dropped \d+ partitions, deleted 0 rows · /);

      for (const at of ROLLED_UP) expect(await rawRows(shard, at)).toBe(0);
      for (const at of NOT_ROLLED_UP) expect(await rawRows(shard, at)).toBe(generated.get(key(shard, at)));
      const partitions = await rawPartitionNames(shard);
      for (const at of ROLLED_UP) expect(partitions).not.toContain(partitionOfHour(at));
      for (const at of NOT_ROLLED_UP) expect(partitions).toContain(partitionOfHour(at));
    }
    await session.screenshot('retention-pruned');

    const rolledUpRows1 = ROLLED_UP.reduce((sum, at) => sum + generated.get(key(1, at))!, 0);
    for (const [shard, removed] of [
      [0, rolledUpRows0],
      [1, rolledUpRows1],
    ] as const) {
      const run = page.locator(`[data-testid="maintenance-run"][data-shard="${shard}"][data-table="raw"]`);
      await run.waitFor({ timeout: SHOWS_WITHIN_MS });
      expect(await run.getAttribute('data-outcome')).toBe('ok');
      expect(await run.getAttribute('data-rows-removed')).toBe(String(removed));
      const cells = await run.locator('td').allInnerTexts();
      expect(cells.slice(1, 6)).toEqual(['prune', `shard${shard}`, 'raw', 'ok', removed.toLocaleString('en-US')]);
      expect(cells[6]).toMatch(/^\d+(\.\d+)? (ms|s)$/);
      expect(cells.slice(7, 9)).toEqual(['manual', hostname()]);
    }
  });

  it('says in the dry run that a shard a backup runs on would not be pruned now, and why', async () => {
    const backup = await cluster.services.activities.claim(1, 'backup', 'nightly dump');
    try {
      await page.getByTestId('prune-dry-run').click();
      const blocked = page.getByTestId('prune-blocked-1');
      await blocked.waitFor({ timeout: SHOWS_WITHIN_MS });
      expect(await blocked.innerText()).toMatch(/^shard1 is not pruned now\na backup of shard1 has been running since \S+ on host \S+ \(pid \d+\): nightly dump$/);
      expect(await page.getByTestId('prune-blocked-0').count()).toBe(0);
      expect(await page.locator('[data-testid="prune-report"][data-dry-run="true"] [data-testid="prune-table-row"][data-shard="0"]').count()).toBe(4);
    } finally {
      await backup.release();
    }
  });

  it('resets the policy to the defaults, after Save only', async () => {
    await page.getByTestId('policy-reset').click();
    expect(await setting('rawHours').inputValue()).toBe('48 hours');
    expect(await setting('hourlyDays').inputValue()).toBe('7 days');
    expect((await cluster.services.retention.policy()).policy.rawHours).toBe(6);
    await page.getByTestId('policy-save').click();
    await page.locator('[data-testid="policy-changed"]', { hasText: /^built-in defaults$/ }).waitFor({ timeout: SHOWS_WITHIN_MS });
    const stored = await cluster.services.retention.policy();
    expect(stored.isDefault).toBe(true);
    expect(stored.policy).toEqual(DEFAULT_RETENTION_SETTINGS);
  });

  it('ran without script errors or CSP violations in the page', () => {
    expect(session.pageErrors).toEqual([]);
  });
});
