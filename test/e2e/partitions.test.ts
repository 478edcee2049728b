import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/shared/format';
import type { TestCluster } from '../support/cluster';
import { SHOWS_WITHIN_MS, startConsoleSession, type ConsoleSession } from '../support/e2e';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const THIS_HOUR = Math.floor(Date.now() / HOUR) * HOUR;
/** The three hours of traffic the tests generate, as the raw table's partition names (`p2025112614`). */
const TRAFFIC_HOURS = [3, 2, 1].map((back) => new Date(THIS_HOUR - back * HOUR));
const partitionOfHour = (hour: Date) => `p${hour.toISOString().slice(0, 13).replace(/[-T]/g, '')}`;
/** How many future raw partitions the tests drop on shard1, so that Apply has something to add back. */
const DROPPED = 24;

let session: ConsoleSession;
let cluster: TestCluster;
let page: Page;
let droppedOnShard1: Array<{ name: string; bound: string }> = [];

interface PartitionRow {
  name: string;
  bound: string;
  rows: number;
  bytes: number;
}

async function rawPartitions(shard: number): Promise<PartitionRow[]> {
  const rows = await cluster.services.connections.query<Array<{ name: string; bound: string; bytes: number }>>(
    shard,
    `SELECT PARTITION_NAME AS name, PARTITION_DESCRIPTION AS bound, DATA_LENGTH + INDEX_LENGTH AS bytes
       FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'analytics_realtime' ORDER BY PARTITION_ORDINAL_POSITION`,
  );
  return Promise.all(
    rows.map(async (row) => {
      const [count] = await cluster.services.connections.query<Array<{ n: number }>>(shard, `SELECT COUNT(*) AS n FROM analytics_realtime PARTITION (\`${row.name}\`)`);
      return { name: row.name, bound: row.bound, rows: Number(count?.n), bytes: Number(row.bytes) };
    }),
  );
}

const partitionRow = (shard: number, name: string) => page.locator(`[data-testid="partition-row"][data-shard="${shard}"][data-table="analytics_realtime"][data-partition="${name}"]`);
const warning = (shard: number, kind: string) => page.locator(`[data-testid="partition-warning"][data-shard="${shard}"][data-table="analytics_realtime"][data-kind="${kind}"]`);

/**
 * The instant partition maintenance takes as now, set once the schema has made the partitions: at every new hour
 * the keep-ahead horizon moves one partition on, and an apply and the check of its warnings must see the same hour.
 */
let maintenanceNow = Date.now();

beforeAll(async () => {
  session = await startConsoleSession({ shards: 2, services: { partitions: { clock: () => new Date(maintenanceNow) } } });
  maintenanceNow = Date.now();
  ({ cluster, page } = session);
  await cluster.services.generator.run({ from: TRAFFIC_HOURS[0]!.toISOString(), to: new Date(THIS_HOUR).toISOString(), sites: 6, views: 1_800, seed: 11 });
});

afterAll(async () => {
  await session?.close();
});

describe('partitions page in a real browser against a real 2-shard cluster', () => {
  it('draws every table on a timeline per shard, and a picked raw partition shows its exact rows and size', async () => {
    await session.openPage('partitions');
    expect(await page.getByTestId('nav-partitions').innerText()).toBe('Partitions');
    for (const table of ['analytics_realtime', 'analytics_hourly', 'analytics_daily', 'analytics_monthly']) {
      for (const shard of [0, 1]) {
        const strip = page.getByTestId(`timeline-${table}-${shard}`);
        await strip.waitFor({ timeout: SHOWS_WITHIN_MS });
        expect(await strip.getByTestId('timeline-segment').count()).toBeGreaterThan(1);
      }
    }
    const onShard0 = await rawPartitions(0);
    expect(await page.getByTestId('timeline-analytics_realtime-0').getByTestId('timeline-segment').count()).toBe(onShard0.length);
    await session.screenshot('partitions-timeline');

    await page.getByTestId('partition-rows-mode').getByText('exact (COUNT)').click();
    await page.locator('[data-testid="partition-view"][data-exact="true"]').waitFor({ timeout: SHOWS_WITHIN_MS });
    // A click on the timeline narrows the page to that shard and table and points at the partition in the list.
    const busiest = partitionOfHour(TRAFFIC_HOURS[1]!);
    await page.getByTestId('timeline-analytics_realtime-0').locator(`[data-partition="${busiest}"]`).click();
    await page.getByTestId('timeline-analytics_hourly-0').waitFor({ state: 'detached', timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('partition-shard').inputValue()).toBe('shard0');
    const listed = await page.getByTestId('partition-row').evaluateAll((rows) => rows.map((row) => `${row.getAttribute('data-shard')} ${row.getAttribute('data-table')}`));
    expect(new Set(listed)).toEqual(new Set(['0 analytics_realtime']));
    expect(listed).toHaveLength(onShard0.length);

    for (const hour of TRAFFIC_HOURS) {
      const expected = onShard0.find((partition) => partition.name === partitionOfHour(hour))!;
      expect(expected.rows).toBeGreaterThan(0);
      expect(await partitionRow(0, expected.name).getByTestId('partition-rows').innerText()).toBe(expected.rows.toLocaleString('en-US'));
    }
    const hovered = onShard0.find((partition) => partition.name === busiest)!;
    await page.getByTestId('timeline-analytics_realtime-0').locator(`[data-partition="${busiest}"]`).hover();
    const tooltip = page.getByTestId('segment-tooltip');
    await tooltip.waitFor({ timeout: SHOWS_WITHIN_MS });
    const text = await tooltip.innerText();
    expect(text).toContain(`${busiest} · shard0 · realtime`);
    expect(text).toContain(`${hovered.rows.toLocaleString('en-US')} rows (exact)`);
    expect(text).toContain(`${formatBytes(hovered.bytes)} = data`);
    await session.screenshot('partitions-exact-rows');
    await page.mouse.move(0, 0);
  });

  it('warns about a row that landed in the catch-all partition, on that shard only', async () => {
    const twoYearsAhead = new Date(Date.now() + 2 * 365 * DAY);
    await cluster.services.connections.query(0, 'INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path) VALUES (?, ?, ?, ?)', [7, twoYearsAhead, 99, '/from-the-future']);
    await page.getByTestId('partitions-refresh').click();
    const catchAll = warning(0, 'catch-all-rows');
    await catchAll.waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await catchAll.getByTestId('warning-message').innerText()).toBe(
      'analytics_realtime: 1 row in pmax, past the last partition (maintenance fell behind); adding partitions moves them, which rewrites them',
    );
    expect(await warning(1, 'catch-all-rows').count()).toBe(0);
    expect(await partitionRow(0, 'pmax').getAttribute('data-rows')).toBe('1');
    expect(await page.getByTestId('timeline-analytics_realtime-0').innerText()).toContain('rows in the catch-all');
    await session.screenshot('partitions-catch-all');
  });

  it('plans the exact SQL that adds back dropped future partitions, and cancelling Apply changes nothing', async () => {
    const before = await rawPartitions(1);
    droppedOnShard1 = before.filter((partition) => partition.name !== 'pmax').slice(-DROPPED);
    await cluster.services.connections.query(1, `ALTER TABLE analytics_realtime DROP PARTITION ${droppedOnShard1.map((partition) => partition.name).join(', ')}`);
    await page.getByTestId('partition-shard').click();
    await page.getByRole('option', { name: 'All shards' }).click();
    await page.getByTestId('partitions-refresh').click();
    const shortRunway = warning(1, 'too-few-ahead');
    await shortRunway.waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await shortRunway.getByTestId('warning-message').innerText()).toMatch(/^analytics_realtime: \d+ partitions after the current one, covering until .+; Strata keeps 7 days ahead/);

    await page.getByTestId('partitions-plan').click();
    const shard1Plan = page.locator('[data-testid="plan-shard-1"]').locator('[data-testid="plan-table"][data-table="analytics_realtime"]');
    await shard1Plan.waitFor({ timeout: SHOWS_WITHIN_MS });
    const sql = await shard1Plan.getByTestId('plan-sql').innerText();
    expect(sql).toMatch(/^ALTER TABLE analytics_realtime REORGANIZE PARTITION pmax INTO \(PARTITION p\d{10} VALUES LESS THAN \(\d+\), .*, PARTITION pmax VALUES LESS THAN MAXVALUE\)$/);
    for (const partition of droppedOnShard1) expect(sql).toContain(`PARTITION ${partition.name} VALUES LESS THAN (${partition.bound})`);
    // At least the dropped ones: once an hour has begun since the schema was applied, the horizon reaches one further.
    expect(Number(/analytics_realtime adds (\d+) partitions/.exec(await shard1Plan.innerText())?.[1])).toBeGreaterThanOrEqual(DROPPED);
    await session.screenshot('partitions-plan');

    await page.getByTestId('partitions-apply').click();
    const change = page.getByTestId('confirm-shard-1');
    await change.waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await change.innerText()).toMatch(new RegExp(`^shard1: analytics_realtime adds \\d+ partitions, ${droppedOnShard1[0]!.name} … p\\d{10}$`));
    await session.screenshot('partitions-confirm');
    await page.getByTestId('partition-confirm-cancel').click();
    await page.getByTestId('partition-confirm-changes').waitFor({ state: 'detached', timeout: SHOWS_WITHIN_MS });
    expect((await rawPartitions(1)).map((partition) => partition.name)).toEqual(before.filter((partition) => !droppedOnShard1.includes(partition)).map((partition) => partition.name));
    expect(await page.getByTestId('partition-progress').count()).toBe(0);
    expect(await shortRunway.count()).toBe(1);
  });

  it('applies after confirmation with live progress per shard, then lists the partitions back without the short-runway warning', async () => {
    await page.getByTestId('partitions-apply').click();
    const confirm = page.getByTestId('partition-confirm-apply');
    await page.getByTestId('confirm-shard-1').waitFor({ timeout: SHOWS_WITHIN_MS });
    await confirm.click();
    const progress = page.locator('[data-testid="partition-progress"][data-state="done"]');
    await progress.waitFor({ timeout: SHOWS_WITHIN_MS });
    const shard1 = page.getByTestId('progress-shard-1');
    expect(await shard1.getAttribute('data-state')).toBe('applied');
    expect(await shard1.getByTestId('progress-statements').innerText()).toBe('1 of 1 statements');
    expect(['applied', 'up-to-date']).toContain(await page.getByTestId('progress-shard-0').getAttribute('data-state'));
    // Every statement's start and finish and each shard's end reached the page as events.
    const statements = Number(await page.getByTestId('progress-shard-0').getAttribute('data-total')) + 1;
    expect(Number(await progress.getAttribute('data-events'))).toBe(2 * statements + 2);
    await session.screenshot('partitions-applied');

    const after = await rawPartitions(1);
    for (const partition of droppedOnShard1) expect(after.find((found) => found.name === partition.name)?.bound).toBe(partition.bound);
    await warning(1, 'too-few-ahead').waitFor({ state: 'detached', timeout: SHOWS_WITHIN_MS });
    expect(await page.locator('[data-testid="partition-warning"][data-kind="too-few-ahead"]').count()).toBe(0);
    // The row two years ahead stays in the catch-all: adding a week of partitions does not reach it.
    expect(await warning(0, 'catch-all-rows').count()).toBe(1);
    await partitionRow(1, droppedOnShard1.at(-1)!.name).waitFor({ timeout: SHOWS_WITHIN_MS });
    await page.locator('[data-testid="plan-shard-1"][data-statements="0"]').waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('plan-shard-1').getByTestId('plan-shard-summary').innerText()).toBe('nothing to add');
  });

  it('reports a shard that a backup runs on as blocked, with the reason, and leaves its partitions alone', async () => {
    const missing = (await rawPartitions(1)).filter((partition) => partition.name !== 'pmax').slice(-3);
    await cluster.services.connections.query(1, `ALTER TABLE analytics_realtime DROP PARTITION ${missing.map((partition) => partition.name).join(', ')}`);
    const backup = await cluster.services.activities.claim(1, 'backup', 'nightly dump');
    try {
      await page.getByTestId('partitions-apply').click();
      await page.getByTestId('confirm-shard-1').filter({ hasText: `analytics_realtime adds` }).waitFor({ timeout: SHOWS_WITHIN_MS });
      await page.getByTestId('partition-confirm-apply').click();
      const progress = page.locator('[data-testid="partition-progress"][data-state="blocked"]');
      await progress.waitFor({ timeout: SHOWS_WITHIN_MS });
      const shard1 = page.getByTestId('progress-shard-1');
      expect(await shard1.getAttribute('data-state')).toBe('blocked');
      expect(await shard1.getByTestId('progress-blocked').innerText()).toMatch(/^blocked: a backup of shard1 has been running since \S+ on host \S+ \(pid \d+\): nightly dump$/);
      await session.screenshot('partitions-blocked');
    } finally {
      await backup.release();
    }
    const names = (await rawPartitions(1)).map((partition) => partition.name);
    for (const partition of missing) expect(names).not.toContain(partition.name);
    await page.locator('[data-testid="plan-shard-1"][data-statements="1"]').waitFor({ timeout: SHOWS_WITHIN_MS });
  });

  it('shows a stopped shard as unreachable with its problem while the other shard stays listed', async () => {
    await cluster.stopShard(1);
    try {
      await page.getByTestId('partitions-refresh').click();
      const down = page.getByTestId('partition-shard-down-1');
      await down.waitFor({ timeout: SHOWS_WITHIN_MS });
      expect(await down.getByTestId('shard-down-problem').innerText()).toMatch(/^Shard unreachable — shard1 \(127\.0\.0\.1:\d+\): connection (refused|lost)/);
      expect(await page.getByTestId('timeline-analytics_realtime-1').getByTestId('strip-unreachable').innerText()).toMatch(/^unreachable: Shard unreachable — /);
      expect(await page.getByTestId('timeline-analytics_realtime-0').getByTestId('timeline-segment').count()).toBeGreaterThan(200);
      await session.screenshot('partitions-shard-down');
    } finally {
      await cluster.startShard(1);
    }
    await page.getByTestId('partitions-refresh').click();
    await page.getByTestId('partition-shard-down-1').waitFor({ state: 'detached', timeout: SHOWS_WITHIN_MS });
  });

  it('converts an unpartitioned table from its warning: the dialog shows size, estimate and the ALTER, cancel changes nothing, confirm partitions it', async () => {
    // analytics_monthly as a seed's plain DDL builds it: an id primary key, no partitions, two years of months.
    await cluster.services.connections.query(1, 'DROP TABLE analytics_monthly');
    await cluster.services.connections.query(
      1,
      `CREATE TABLE analytics_monthly (
        id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
        site_id INT UNSIGNED NOT NULL,
        month_start DATE NOT NULL,
        page_views BIGINT UNSIGNED NOT NULL DEFAULT 0,
        visitors INT UNSIGNED NOT NULL DEFAULT 0,
        visitors_sketch MEDIUMBLOB NULL,
        KEY idx_site_month (site_id, month_start)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
    );
    const thisMonth = new Date(THIS_HOUR);
    const rows = Array.from({ length: 72 }, (_, i) => [(i % 3) + 1, new Date(Date.UTC(thisMonth.getUTCFullYear(), thisMonth.getUTCMonth() - Math.floor(i / 3), 1)), 100 + i, 10 + i]);
    await cluster.services.connections.query(1, `INSERT INTO analytics_monthly (site_id, month_start, page_views, visitors) VALUES ${rows.map(() => '(?, ?, ?, ?)').join(', ')}`, rows.flat());
    await cluster.services.connections.query(1, 'ANALYZE TABLE analytics_monthly');
    const monthlyPartitions = async () =>
      cluster.services.connections.query<Array<{ name: string | null }>>(
        1,
        "SELECT PARTITION_NAME AS name FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'analytics_monthly' ORDER BY PARTITION_ORDINAL_POSITION",
      );
    const monthlyRows = async () => Number((await cluster.services.connections.query<Array<{ n: number }>>(1, 'SELECT COUNT(*) AS n FROM analytics_monthly'))[0]?.n);
    const [stats] = await cluster.services.connections.query<Array<{ rows: number; data: number; idx: number }>>(
      1,
      "SELECT TABLE_ROWS AS `rows`, DATA_LENGTH AS data, INDEX_LENGTH AS idx FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'analytics_monthly'",
    );

    await page.reload();
    await page.getByTestId('page-partitions').waitFor({ timeout: SHOWS_WITHIN_MS });
    const notPartitioned = page.locator('[data-testid="partition-warning"][data-shard="1"][data-table="analytics_monthly"][data-kind="not-partitioned"]');
    await notPartitioned.waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.locator('[data-testid="partition-warning"][data-shard="0"][data-table="analytics_monthly"][data-kind="not-partitioned"]').count()).toBe(0);

    await page.getByTestId('convert-1-analytics_monthly').click();
    const planned = page.locator('[data-testid="convert-plan-shard-1"][data-action="convert"]');
    await planned.waitFor({ timeout: SHOWS_WITHIN_MS });
    expect(await page.getByTestId('convert-confirm-plan').locator('[data-testid^="convert-plan-shard-"]').count()).toBe(1);
    expect(await planned.getByTestId('convert-size').innerText()).toBe(
      `~${Number(stats!.rows).toLocaleString('en-US')} rows · ${formatBytes(Number(stats!.data) + Number(stats!.idx))} (${formatBytes(Number(stats!.data))} data, ${formatBytes(Number(stats!.idx))} index) · estimated about 1 s`,
    );
    expect(await planned.getByTestId('convert-key-change').innerText()).toBe('primary key (id) → (id, month_start)');
    const warnings = await planned.getByTestId('convert-warning').allInnerTexts();
    expect(warnings.join('\n')).toContain('writes to analytics_monthly are blocked for the whole time');
    expect(warnings.join('\n')).toContain('It needs free disk of about the table');
    expect(await planned.getByTestId('convert-sql').innerText()).toMatch(
      /^ALTER TABLE analytics_monthly DROP PRIMARY KEY, ADD PRIMARY KEY \(id, month_start\) PARTITION BY RANGE \(TO_DAYS\(month_start\)\) \([\s\S]*PARTITION pmax VALUES LESS THAN MAXVALUE\s*\)$/,
    );
    await session.screenshot('partitions-convert-confirm');
    await page.getByTestId('convert-confirm-cancel').click();
    await page.getByTestId('convert-confirm-plan').waitFor({ state: 'detached', timeout: SHOWS_WITHIN_MS });
    expect((await monthlyPartitions()).map((partition) => partition.name)).toEqual([null]);
    expect(await page.getByTestId('convert-progress').count()).toBe(0);
    expect(await notPartitioned.count()).toBe(1);

    await page.getByTestId('convert-1-analytics_monthly').click();
    await planned.waitFor({ timeout: SHOWS_WITHIN_MS });
    await page.getByTestId('convert-confirm-convert').click();
    const done = page.locator('[data-testid="convert-progress"][data-state="done"]');
    await done.waitFor({ timeout: SHOWS_WITHIN_MS });
    const shard1 = page.getByTestId('convert-shard-1');
    expect(await shard1.getAttribute('data-state')).toBe('converted');
    expect(await shard1.getByTestId('convert-rows').innerText()).toBe(`${rows.length} rows before, ${rows.length} after`);
    expect(await page.getByTestId('convert-shard-0').count()).toBe(0);
    // The shard's start and end reached the page as events, besides any progress readings of the ALTER.
    await expect.poll(async () => Number(await done.getAttribute('data-events')), { timeout: SHOWS_WITHIN_MS }).toBeGreaterThanOrEqual(2);
    await session.screenshot('partitions-converted');

    await notPartitioned.waitFor({ state: 'detached', timeout: SHOWS_WITHIN_MS });
    const after = (await monthlyPartitions()).map((partition) => partition.name);
    expect(after.length).toBeGreaterThan(1);
    expect(after.at(-1)).toBe('pmax');
    expect(await monthlyRows()).toBe(rows.length);
  });

  it('ran without script errors or CSP violations in the page', () => {
    expect(session.pageErrors).toEqual([]);
  });
});
