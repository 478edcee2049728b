import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestCluster } from '../support/cluster';
import { SHOWS_WITHIN_MS, startConsoleSession, type ConsoleSession } from '../support/e2e';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Yesterday 00:00 UTC: every hour of it lies within the raw retention and the raw partitions. */
const D0 = Math.floor(Date.now() / DAY) * DAY - DAY;
const at = (offsetHours: number) => new Date(D0 + offsetHours * HOUR);
const monthStart = (day: Date) => new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), 1));
const STRATA_BIN = fileURLToPath(new URL('../../bin/strata.js', import.meta.url));

let session: ConsoleSession;
let cluster: TestCluster;
let page: Page;

const twoDigits = (value: number) => String(value).padStart(2, '0');

/** Picks a UTC time the way a user does: the day in the picker's calendar (going back months as needed), then hours and minutes. */
async function pickUtc(testId: string, time: Date): Promise<void> {
  await page.getByTestId(testId).click();
  const dropdown = page.getByRole('dialog');
  await dropdown.waitFor({ timeout: SHOWS_WITHIN_MS });
  const month = time.toLocaleString('en-GB', { month: 'long', timeZone: 'UTC' });
  const day = dropdown.getByRole('button', { name: `${time.getUTCDate()} ${month} ${time.getUTCFullYear()}`, exact: true });
  for (let tries = 0; (await day.count()) === 0 && tries < 24; tries += 1) await dropdown.locator('button[data-direction="previous"]').click();
  await day.click();
  await dropdown.getByLabel('hours (UTC)', { exact: true }).fill(twoDigits(time.getUTCHours()));
  await dropdown.getByLabel('minutes', { exact: true }).fill(twoDigits(time.getUTCMinutes()));
  await dropdown.getByLabel('use this time', { exact: true }).click();
  await dropdown.waitFor({ state: 'hidden', timeout: SHOWS_WITHIN_MS });
  expect(await page.getByTestId(testId).innerText()).toBe(`${time.toISOString().slice(0, 10)} ${time.toISOString().slice(11, 16)}`);
}

async function fillForm(level: 'hourly' | 'daily' | 'monthly', from: Date, to: Date, cascade: boolean): Promise<void> {
  await page.getByTestId('backfill-level').getByText(level, { exact: true }).click();
  await pickUtc('backfill-from', from);
  await pickUtc('backfill-to', to);
  const checkbox = page.getByTestId('backfill-cascade');
  if ((await checkbox.isChecked()) !== cascade) await checkbox.click();
}

/** Row locks on a day's daily rows on both shards: a cascade reaching that day waits inside its window. */
async function holdDay(day: Date): Promise<() => Promise<void>> {
  const sessions = await Promise.all([0, 1].map(async (shard) => (await cluster.services.connections.pool(shard)).getConnection()));
  for (const connection of sessions) {
    await connection.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
    await connection.query('START TRANSACTION');
    await connection.query('SELECT site_id FROM analytics_daily WHERE date = ? FOR UPDATE', [day]);
  }
  return async () => {
    for (const connection of sessions) {
      await connection.query('ROLLBACK');
      connection.release();
    }
  };
}

beforeAll(async () => {
  session = await startConsoleSession({ shards: 2 });
  ({ cluster, page } = session);
  await cluster.services.generator.run({ from: at(0).toISOString(), to: at(24).toISOString(), sites: 8, views: 4_800, seed: 3 });
  expect((await cluster.services.rollup.runDue('hourly', { trigger: 'schedule' })).ok).toBe(true);
  expect((await cluster.services.rollup.runRange('daily', at(0), at(24), { trigger: 'manual' })).ok).toBe(true);
});

afterAll(async () => {
  await session?.close();
});


/** One hourly row per shard for each of the hours, as an older rollup left them. */
async function holdHourlyRows(cluster: TestCluster, from: Date, hours: number): Promise<void> {
  for (let hour = 0; hour < hours; hour += 1) {
    for (const shard of [0, 1]) {
      await cluster.services.connections.query(shard, 'INSERT IGNORE INTO analytics_hourly (site_id, hour_start, page_views, visitors) VALUES (?, ?, 3, 2)', [shard, new Date(from.getTime() + hour * 3_600_000)]);
    }
  }
}

describe('backfill page in a real browser against a real 2-shard cluster', () => {
  it('is listed under Rollups and a dry run shows every window with its estimates', async () => {
    await session.openPage('backfill');
    expect(await page.getByTestId('nav-backfill').innerText()).toBe('Backfill');
    // The form opens on the last 24 whole hours, where a fresh sandbox or the demo has its traffic.
    const shownUtc = async (testId: string) => Date.parse(`${(await page.getByTestId(testId).innerText()).replace(' ', 'T')}:00Z`);
    const [defaultFrom, defaultTo] = [await shownUtc('backfill-from'), await shownUtc('backfill-to')];
    expect(defaultTo - defaultFrom).toBe(DAY);
    expect(defaultTo % HOUR).toBe(0);
    expect(Date.now() - defaultTo).toBeLessThan(2 * HOUR);
    await fillForm('hourly', at(5), at(7), true);
    await page.getByTestId('backfill-dry-run').click();
    const plan = page.getByTestId('backfill-plan');
    await plan.waitFor({ timeout: SHOWS_WITHIN_MS });
    const windows = await page.getByTestId('plan-window').evaluateAll((rows) => rows.map((row) => `${row.getAttribute('data-level')} ${row.getAttribute('data-window-start')}`));
    expect(windows).toEqual([`hourly ${at(5).toISOString()}`, `hourly ${at(6).toISOString()}`, `daily ${at(0).toISOString()}`, `monthly ${monthStart(at(0)).toISOString()}`]);
    expect(await page.getByTestId('plan-totals').innerText()).toMatch(/^4 windows · ~[\d,]+ source rows · ~/);
    expect(await page.getByTestId('estimate-hourly').getAttribute('data-basis')).toBe('history');
    expect(await page.getByTestId('estimate-monthly').innerText()).toContain('no monthly run history yet');
    expect(await plan.getAttribute('data-refused')).toBe('0');
    expect(await cluster.services.backfill.list(10)).toEqual([]);
    await session.screenshot('backfill-dry-run');
  });

  it('shows the refused range of a pruned source with the level it can be rebuilt from', async () => {
    const fiveDaysAgo = new Date(D0 - 4 * DAY);
    // The raw rows of that hour are past retention while the hourly level still holds the hour: a daily backfill can rebuild from it.
    await holdHourlyRows(cluster, fiveDaysAgo, 3);
    await fillForm('hourly', fiveDaysAgo, new Date(fiveDaysAgo.getTime() + 3 * HOUR), false);
    await page.getByTestId('backfill-dry-run').click();
    const refused = page.getByTestId('refused-range');
    await refused.waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await refused.getAttribute('data-rebuild-from')).toBe('hourly');
    expect(await refused.innerText()).toContain('backfill --level daily rebuilds from them');
    await session.screenshot('backfill-refused');
    // Starting it anyway is refused by the main process, and nothing is recorded.
    await page.getByTestId('backfill-start').click();
    await page.getByTestId('backfill-confirm-start').click();
    await page.getByTestId('confirm-refusal').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('confirm-refusal').innerText()).toMatch(/^Source data already pruned: nothing was started/);
    await page.keyboard.press('Escape');
    expect(await cluster.services.backfill.list(10)).toEqual([]);
  });

  it('starts after a confirmation, shows progress events arriving, and finishes', async () => {
    await fillForm('hourly', at(5), at(7), true);
    await page.getByTestId('backfill-start').click();
    const confirm = page.getByTestId('backfill-confirm-start');
    await confirm.waitFor({ timeout: SHOWS_WITHIN_MS });
    await confirm.click();
    const progress = page.locator('[data-testid="backfill-progress"][data-state="done"]');
    await progress.waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await progress.getAttribute('data-windows-done')).toBe('4');
    expect(await progress.getAttribute('data-windows-total')).toBe('4');
    // A start, a finish per window, and the end: every one of them reached the page as an event.
    expect(Number(await progress.getAttribute('data-events'))).toBeGreaterThanOrEqual(9);
    expect(await progress.getByTestId('progress-windows').innerText()).toBe('4 / 4');
    const [record] = await cluster.services.backfill.list(1);
    expect(record).toMatchObject({ state: 'done', windowsDone: 4, level: 'hourly', cascade: true });
    await page.locator(`[data-testid="backfill-row"][data-id="${record!.id}"][data-state="done"]`).waitFor({ timeout: SHOWS_WITHIN_MS });
    await session.screenshot('backfill-finished');
  });

  it('cancels a running backfill from the page, then resumes it', async () => {
    const release = await holdDay(at(0));
    let id: number;
    try {
      await fillForm('hourly', at(8), at(10), true);
      await page.getByTestId('backfill-start').click();
      await page.getByTestId('backfill-confirm-start').click();
      // The two hours finish; the day waits on the held rows, and the page says which window runs.
      const running = page.locator('[data-testid="backfill-progress"][data-state="running"][data-windows-done="2"]');
      await running.waitFor({ timeout: SHOWS_WITHIN_MS });
      await page.getByTestId('progress-window').getByText(`daily ${at(0).toISOString().slice(0, 10)}`).waitFor({ timeout: SHOWS_WITHIN_MS });
      expect(await page.getByTestId('progress-windows').innerText()).toBe('2 / 4');
      await session.screenshot('backfill-running');
      id = Number(await running.getAttribute('data-backfill-id'));
      await page.getByTestId('progress-cancel').click();
      await page.locator('[data-testid="backfill-progress"][data-state="cancelled"]').waitFor({ timeout: SHOWS_WITHIN_MS });
    } finally {
      await release();
    }
    expect(await cluster.services.backfill.get(id)).toMatchObject({ state: 'cancelled', windowsDone: 2, nextWindowLevel: 'daily' });
    const row = page.locator(`[data-testid="backfill-row"][data-id="${id}"][data-state="cancelled"]`);
    await row.waitFor({ timeout: SHOWS_WITHIN_MS });
    await session.screenshot('backfill-cancelled');
    await page.getByTestId(`backfill-resume-${id}`).click();
    await page.locator(`[data-testid="backfill-progress"][data-backfill-id="${id}"][data-state="done"]`).waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('progress-windows').innerText()).toBe('4 / 4');
    await page.locator(`[data-testid="backfill-row"][data-id="${id}"][data-state="done"]`).waitFor({ timeout: SHOWS_WITHIN_MS });
    await session.screenshot('backfill-resumed');
  });

  it('cancels from the recent backfills a backfill that a CLI runs', async () => {
    const release = await holdDay(at(0));
    const child = spawn(process.execPath, [STRATA_BIN, 'backfill', '--level', 'hourly', '--from', at(11).toISOString(), '--to', at(12).toISOString(), '--cascade', '--profile', cluster.profilePath], {
      env: { ...process.env, STRATA_LOG_FILE: 'off', STRATA_PROFILE: '' },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let id: number;
    try {
      // The CLI's progress is not sent to this page: its row in the list shows it, with Cancel. The hour is done; the day waits.
      const running = page.locator('[data-testid="backfill-row"][data-state="running"]', { hasText: '1 / 3' });
      await running.waitFor({ timeout: SHOWS_WITHIN_MS });
      id = Number(await running.getAttribute('data-id'));
      expect((await cluster.services.backfill.get(id)).pid).toBe(child.pid);
      await page.getByTestId(`backfill-cancel-${id}`).click();
      await page.locator(`[data-testid="backfill-row"][data-id="${id}"][data-state="cancelled"]`).waitFor({ timeout: SHOWS_WITHIN_MS });
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    } finally {
      await release();
    }
    expect(await exited).toBe(130);
    const record = await cluster.services.backfill.get(id);
    expect(record).toMatchObject({ state: 'cancelled', windowsDone: 1, nextWindowLevel: 'daily' });
    expect(record.error).toMatch(/^cancelled by .+; the window in progress was rolled back$/);
    await session.screenshot('backfill-cancelled-elsewhere');
  });

  it('ran without script errors or CSP violations in the page', () => {
    expect(session.pageErrors).toEqual([]);
  });
});
