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

/** The minutes past the hour of the next runs the page lists for a job (`2025-03-01 14:05 (in 3 min)` → 5). */
async function nextRunMinutes(job: string): Promise<number[]> {
  const texts = await page.getByTestId(`next-runs-${job}`).getByTestId('next-run').allInnerTexts();
  return texts.map((text) => Number(/^\d{4}-\d\d-\d\d \d\d:(\d\d)/.exec(text)?.[1]));
}

async function storedHourly() {
  const { schedules } = await cluster.services.scheduler.list();
  return schedules.find((schedule) => schedule.job === 'rollup-hourly')!;
}

describe('schedules page in a real browser against a real 2-shard cluster', () => {
  it('lists the four default schedules with their next run times', async () => {
    await session.openPage('schedules');
    const defaults = { 'rollup-hourly': '0 * * * *', 'rollup-daily': '0 2 * * *', 'rollup-monthly': '0 3 1 * *', maintenance: '0 4 * * *' };
    for (const [job, cron] of Object.entries(defaults)) {
      expect(await page.getByTestId(`cron-${job}-value`).innerText()).toBe(cron);
      const row = page.getByTestId(`schedule-${job}`);
      expect(await row.getAttribute('data-enabled')).toBe('true');
      expect(await row.innerText()).toContain('built-in default');
      expect(await page.getByTestId(`next-runs-${job}`).getByTestId('next-run').count()).toBe(3);
    }
    expect(await nextRunMinutes('rollup-hourly')).toEqual([0, 0, 0]);
    const dailyRuns = await page.getByTestId('next-runs-rollup-daily').getByTestId('next-run').allInnerTexts();
    for (const run of dailyRuns) expect(run).toMatch(/^\d{4}-\d\d-\d\d 02:00 \(in /);
    await session.screenshot('schedules-defaults');
  });

  it('changes hourly to 5 * * * * and shows the new next runs and who changed it', async () => {
    await page.getByTestId('cron-rollup-hourly-edit').click();
    await page.getByTestId('cron-rollup-hourly-input').fill('5 * * * *');
    await page.getByTestId('cron-rollup-hourly-save').click();
    await page.getByTestId('cron-rollup-hourly-value').filter({ hasText: /^5 \* \* \* \*$/ }).waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await nextRunMinutes('rollup-hourly')).toEqual([5, 5, 5]);
    const stored = await storedHourly();
    expect(stored.cron).toBe('5 * * * *');
    const row = await page.getByTestId('schedule-rollup-hourly').innerText();
    expect(row).toContain(stored.changedBy!);
    expect(row).toContain('default 0 * * * *');
    await session.screenshot('schedules-hourly-changed');
  });

  it('refuses "not a cron" with the reason and keeps the stored schedule', async () => {
    await page.getByTestId('cron-rollup-hourly-edit').click();
    await page.getByTestId('cron-rollup-hourly-input').fill('not a cron');
    await page.getByTestId('cron-rollup-hourly-save').click();
    const refusal = page.getByTestId('cron-rollup-hourly-refusal');
    await refusal.waitFor({ timeout: SHOWS_WITHIN_MS });
    // The heading is said once: the message's own "invalid cron expression" is not repeated after it.
    expect(await refusal.innerText()).toMatch(/^Invalid cron expression "not a cron": /);
    // The input keeps what was typed so it can be corrected; the store and the next runs are unchanged.
    expect(await page.getByTestId('cron-rollup-hourly-input').inputValue()).toBe('not a cron');
    expect((await storedHourly()).cron).toBe('5 * * * *');
    expect(await nextRunMinutes('rollup-hourly')).toEqual([5, 5, 5]);
    await session.screenshot('schedules-invalid-cron');
    // Correcting the draft drops the refusal, which was about the text sent, and previews the corrected draft.
    await page.getByTestId('cron-rollup-hourly-input').fill('10 * * * *');
    expect(await refusal.count()).toBe(0);
    expect(await page.getByTestId('cron-rollup-hourly-preview').innerText()).toMatch(/^next runs of the draft: \d\d-\d\d \d\d:10 · \d\d-\d\d \d\d:10 · \d\d-\d\d \d\d:10$/);
    await page.getByTestId('cron-rollup-hourly-cancel').click();
    expect(await page.getByTestId('cron-rollup-hourly-value').innerText()).toBe('5 * * * *');
  });

  it('asks before disabling a job, and leaves it enabled when told to keep it', async () => {
    await page.getByTestId('enabled-rollup-daily').click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await dialog.innerText()).toContain('Disable rollup-daily?');
    expect(await dialog.innerText()).toContain('lost for good');
    await session.screenshot('schedules-confirm-disable');
    await page.getByTestId('enabled-rollup-daily-keep').click();
    await dialog.waitFor({ state: 'detached', timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('schedule-rollup-daily').getAttribute('data-enabled')).toBe('true');
    const { schedules } = await cluster.services.scheduler.list();
    expect(schedules.find((schedule) => schedule.job === 'rollup-daily')!.enabled).toBe(true);
  });

  it('disables a job once confirmed and says so above the table', async () => {
    await page.getByTestId('enabled-rollup-daily').click();
    await page.getByTestId('enabled-rollup-daily-disable').click();
    await page.getByRole('dialog').waitFor({ state: 'detached', timeout: SHOWS_WITHIN_MS });
    await page.locator('[data-testid="schedule-rollup-daily"][data-enabled="false"]').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('disabled-banner').innerText()).toContain('rollup-daily is disabled');
    const { schedules } = await cluster.services.scheduler.list();
    expect(schedules.find((schedule) => schedule.job === 'rollup-daily')!.enabled).toBe(false);
    await session.screenshot('schedules-daily-disabled');
  });

  it('ran without script errors or CSP violations in the page', () => {
    expect(session.pageErrors).toEqual([]);
  });
});
