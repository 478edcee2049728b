import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCluster } from '../support/cluster';
import { SHOWS_WITHIN_MS, startConsoleSession, type ConsoleSession } from '../support/e2e';

const HOUR = 3_600_000;
const H = Math.floor(Date.now() / HOUR) * HOUR;
/** A backup, a verification and a restore each take a few seconds on two busy cores. */
const FINISHES_WITHIN_MS = 60_000;
const SCRATCH = 'strata_e2e_restored';

let session: ConsoleSession;
let cluster: TestCluster;
let page: Page;
let dest: string;
let setId: string;

async function hourlyRows(shard: number, database?: string): Promise<number> {
  const table = database ? `${database}.analytics_hourly` : 'analytics_hourly';
  const [row] = await cluster.services.connections.query<Array<{ n: number }>>(shard, `SELECT COUNT(*) AS n FROM ${table}`);
  return Number(row?.n);
}

beforeAll(async () => {
  dest = await mkdtemp(join(tmpdir(), 'strata-e2e-backups-'));
  session = await startConsoleSession({ shards: 2, services: { backup: { defaultDest: dest } } });
  ({ cluster, page } = session);
  await cluster.services.generator.run({ from: new Date(H - 6 * HOUR).toISOString(), to: new Date(H).toISOString(), sites: 20, views: 6_000, seed: 10 });
  expect((await cluster.services.rollup.runRange('hourly', new Date(H - 6 * HOUR), new Date(H), { trigger: 'manual' })).ok).toBe(true);
  for (const shard of [0, 1]) expect(await hourlyRows(shard)).toBeGreaterThan(0);
});

afterAll(async () => {
  await cluster?.services.connections.query(0, `DROP DATABASE IF EXISTS ${SCRATCH}`).catch(() => undefined);
  await cluster?.services.connections.query(1, `DROP DATABASE IF EXISTS ${SCRATCH}`).catch(() => undefined);
  await session?.close();
  if (dest) await rm(dest, { recursive: true, force: true });
});

describe('backups page in a real browser against a real 2-shard cluster', () => {
  it('starts empty: no set, and no shard has a verified backup', async () => {
    await session.openPage('backups');
    expect(await page.getByTestId('nav-backups').innerText()).toBe('Backups');
    await page.getByTestId('backup-sets-empty').waitFor({ timeout: SHOWS_WITHIN_MS });
    for (const shard of [0, 1]) expect(await page.getByTestId(`backup-newest-${shard}-age`).innerText()).toBe('no verified backup');
    expect(await page.getByTestId('backup-schedule-link').getAttribute('href')).toBe('#/schedules');
    expect(await page.getByTestId('backup-schedule').innerText()).toMatch(/^Runs at cron 0 1 \* \* \* \(UTC\), next \d{4}-\d\d-\d\d 01:00,/);
    await page.getByTestId('backup-retention').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('backup-retention').innerText()).toBe(
      'Retention: keep the newest 7 sets and 14 days, and always the newest verified set of each shard (built-in defaults); change it with strata backup retention.',
    );
  });

  it('shows the dry run before backing up, then each shard’s live progress until the set is done', async () => {
    await page.getByTestId('backup-now').click();
    const plan = page.getByTestId('backup-confirm-plan');
    await plan.waitFor({ timeout: SHOWS_WITHIN_MS });
    for (const shard of [0, 1]) {
      const command = await page.getByTestId(`backup-confirm-plan-command-${shard}`).innerText();
      // The secret part is a defaults file, passed first.
      expect(command).toMatch(/^\S*(mariadb-dump|mysqldump) '?--defaults-extra-file=[^']+'? --single-transaction /);
      expect(command).toContain('analytics_hourly');
      expect(command).not.toMatch(/--password|-p\S/);
    }
    expect(await page.getByTestId('backup-confirm-plan-summary').innerText()).toContain(dest);
    // Nothing is dumped before the confirmation.
    expect(await readdir(dest)).toEqual([]);
    await page.getByTestId('backup-confirm-run').click();

    const progress = page.locator('[data-testid="backup-progress"][data-state="ok"]');
    await progress.waitFor({ timeout: FINISHES_WITHIN_MS });
    setId = (await progress.getAttribute('data-set'))!;
    expect(Number(await progress.getAttribute('data-events'))).toBeGreaterThan(0);
    for (const shard of [0, 1]) {
      expect(await page.getByTestId(`backup-progress-${shard}`).getAttribute('data-state')).toBe('ok');
      expect(await page.getByTestId(`backup-progress-${shard}-numbers`).innerText()).toMatch(/written of .* dumped · \d+\.\d MB\/s · tables (\d+)\/\1/);
    }
    const row = page.locator(`[data-testid="backup-set-${setId}"][data-state="ok"]`);
    await row.waitFor({ timeout: SHOWS_WITHIN_MS });
    for (const shard of [0, 1]) {
      const part = await page.getByTestId(`backup-set-${setId}-part-${shard}`).innerText();
      expect(part).toMatch(/^shard\d\s+ok\s+[\d.]+ [KMG]?i?B · .+ · [\d,]+ rows/);
      expect(await page.getByTestId(`backup-set-${setId}-verify-${shard}`).innerText()).toBe('not verified');
    }
    const files = await readdir(dest);
    expect(files).toEqual(expect.arrayContaining([`${setId}.manifest.json`, expect.stringMatching(new RegExp(`^${setId}-shard0\\.sql\\.(zst|gz)$`)), expect.stringMatching(new RegExp(`^${setId}-shard1\\.sql\\.(zst|gz)$`))]));
    await session.screenshot('backups-done');
  });

  it('verifies the set with progress per shard, and then counts its age as the newest verified backup', async () => {
    await page.getByTestId(`backup-verify-${setId}`).click();
    await page.locator('[data-testid="verify-progress"]').waitFor({ timeout: SHOWS_WITHIN_MS });
    await page.locator('[data-testid="verify-progress"][data-state="ok"]').waitFor({ timeout: FINISHES_WITHIN_MS });
    for (const shard of [0, 1]) {
      expect(await page.getByTestId(`verify-progress-${shard}`).getAttribute('data-state')).toBe('ok');
      const rows = (await hourlyRows(shard)).toLocaleString('en-US');
      expect(await page.getByTestId(`verify-progress-${shard}-tables`).innerText()).toContain(`analytics_hourly ${rows}/${rows} rows`);
      await page.locator(`[data-testid="backup-set-${setId}-verify-${shard}"]`, { hasText: /^verified$/ }).waitFor({ timeout: SHOWS_WITHIN_MS });
      await page.locator(`[data-testid="backup-newest-${shard}-age"]`, { hasText: / old$/ }).waitFor({ timeout: SHOWS_WITHIN_MS });
    }
  });

  it('restores into a scratch database by default and allows replacing only after saying what it does and a typed name', async () => {
    await page.getByTestId(`backup-restore-${setId}`).click();
    await page.getByTestId('restore-run').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('restore-target-scratch').isChecked()).toBe(true);
    expect(await page.getByTestId('restore-run').innerText()).toBe('Restore into scratch');
    expect(await page.getByTestId('restore-replace-explained').count()).toBe(0);

    await page.getByTestId('restore-target-replace').check();
    const explained = await page.getByTestId('restore-replace-explained').innerText();
    expect(explained).toContain('every row written to them since is gone');
    expect(explained).toContain('scheduler must be paused for shard0');
    expect(explained).toContain('watermarks go back to the backup');
    expect(await page.getByTestId('restore-run').isDisabled()).toBe(true);
    await page.getByTestId('restore-confirm-text').fill('shard1');
    expect(await page.getByTestId('restore-run').isDisabled()).toBe(true);
    await page.getByTestId('restore-confirm-text').fill('shard0');
    expect(await page.getByTestId('restore-run').isDisabled()).toBe(false);
    expect(await page.getByTestId('restore-run').innerText()).toBe('Replace the live tables');

    // The live tables stay untouched: back to a scratch database with a chosen name.
    await page.getByTestId('restore-target-scratch').check();
    await page.getByTestId('restore-into').fill(SCRATCH);
    await page.getByTestId('restore-run').click();
    const report = page.getByTestId('restore-report');
    await report.waitFor({ timeout: FINISHES_WITHIN_MS });
    expect(await report.innerText()).toContain(`Restored into ${SCRATCH}`);
    expect(await hourlyRows(0, SCRATCH)).toBe(await hourlyRows(0));
    expect(await page.getByTestId('restore-run').isDisabled()).toBe(true);
    await session.screenshot('backups-restored');
    await page.getByTestId('restore-close').click();
    expect(session.pageErrors).toEqual([]);
  });
});
