import { hostname } from 'node:os';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { osUser } from '../../src/main/identity';
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

const rows = () => page.getByTestId('audit-entry');
const actions = async () => Promise.all((await rows().all()).map((row) => row.getAttribute('data-action')));

async function waitForActions(expected: string[]): Promise<void> {
  await expect.poll(actions, { timeout: SHOWS_WITHIN_MS }).toEqual(expected);
}

describe('audit page in a real browser against a real 2-shard cluster', () => {
  it('says nothing has been changed yet on a new cluster', async () => {
    await session.openPage('audit');
    expect(await page.getByTestId('nav-audit').innerText()).toBe('Audit log');
    await page.getByTestId('audit-empty').waitFor({ timeout: SHOWS_WITHIN_MS });
  });

  it('lists changes made elsewhere with who, where, what and when, newest first', async () => {
    await cluster.services.retention.setPolicy({ rawHours: 72 });
    await cluster.services.scheduler.set({ job: 'rollup-daily', cron: '15 2 * * *' });
    // The page polls: changes made by another console or the CLI show without a reload.
    await waitForActions(['schedule.set', 'retention.set']);
    const [stored] = await cluster.services.state.audit.list({ kind: 'schedule' });
    const newest = rows().first();
    expect(await newest.getByTestId('audit-who').innerText()).toBe(osUser());
    expect(await newest.getByTestId('audit-where').innerText()).toBe(hostname());
    expect(await newest.getByTestId('audit-what').innerText()).toMatch(/^schedule\.set\s+rollup-daily$/);
    expect(await newest.getByTestId('audit-when').innerText()).toBe(stored!.at.replace('T', ' ').slice(0, 19));
    expect(await rows().nth(1).getByTestId('audit-detail-summary').innerText()).toBe('rawHours 48 → 72');
    await session.screenshot('audit-list');
  });

  it("opens an operation's details below its line", async () => {
    expect(await page.getByTestId('audit-detail').count()).toBe(0);
    await rows().first().getByTestId('audit-expand').click();
    const detail = page.getByTestId('audit-detail');
    await detail.waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(JSON.parse(await detail.innerText())).toEqual({ from: { cron: '0 2 * * *', enabled: true }, to: { cron: '15 2 * * *', enabled: true } });
    await session.screenshot('audit-detail');
    await rows().first().getByTestId('audit-expand').click();
    await detail.waitFor({ state: 'detached', timeout: SHOWS_WITHIN_MS });
  });

  it('filters by kind and by how far back', async () => {
    // An entry written three days ago, as a console that changed retention then would have left it.
    await cluster.services.state.audit.write({ at: new Date(Date.now() - 3 * 86_400_000), actor: 'dba', host: 'laptop-7', action: 'retention.set', target: 'retention', detail: 'dailyDays 365 → 400' });
    await waitForActions(['schedule.set', 'retention.set', 'retention.set']);

    await page.getByTestId('audit-kind').getByText('retention', { exact: true }).click();
    await waitForActions(['retention.set', 'retention.set']);
    expect(await rows().nth(1).getByTestId('audit-who').innerText()).toBe('dba');
    expect(await rows().nth(1).getByTestId('audit-where').innerText()).toBe('laptop-7');

    await page.getByTestId('audit-since').getByText('24 hours', { exact: true }).click();
    await waitForActions(['retention.set']);
    expect(await rows().first().getByTestId('audit-detail-summary').innerText()).toBe('rawHours 48 → 72');
    await session.screenshot('audit-filtered');

    await page.getByTestId('audit-kind').getByText('backfill', { exact: true }).click();
    await page.getByTestId('audit-empty').filter({ hasText: 'No audited change matches these filters.' }).waitFor({ timeout: SHOWS_WITHIN_MS });

    await page.getByTestId('audit-kind').getByText('All', { exact: true }).click();
    await page.getByTestId('audit-since').getByText('All time', { exact: true }).click();
    await waitForActions(['schedule.set', 'retention.set', 'retention.set']);
  });

  it('ran without script errors or CSP violations in the page', () => {
    expect(session.pageErrors).toEqual([]);
  });
});
