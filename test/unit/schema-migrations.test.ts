import { describe, expect, it } from 'vitest';
import { LATEST_VERSION, MIGRATIONS, type Migration } from '../../src/main/schema/migrations';
import { planMigrations } from '../../src/main/schema/planner';

const now = new Date('2024-02-29T12:34:56Z');
const [initial] = MIGRATIONS;

function statementFor(table: string): string {
  const statement = initial?.statements(now).find((sql) => sql.startsWith(`CREATE TABLE IF NOT EXISTS ${table} (`));
  if (!statement) throw new Error(`migration 1 does not create ${table}`);
  return statement;
}

function partitionNames(sql: string): string[] {
  return [...sql.matchAll(/PARTITION (p\w+) VALUES/g)].map((match) => match[1] ?? '');
}

describe('migration 1', () => {
  it('keeps the checksum every deployed shard recorded; changing the SQL needs a new migration instead', () => {
    expect(initial?.checksum).toBe('7a85ece810909395e13247f222efddcfe247d7e124d4072c0d4e8ad121347b46');
  });

  it('creates every table re-runnably, as InnoDB with utf8mb4', () => {
    const statements = initial?.statements(now) ?? [];
    const tables = statements.map((sql) => /^CREATE TABLE IF NOT EXISTS (\w+) \(/.exec(sql)?.[1]);
    expect(tables).toEqual([
      'analytics_realtime',
      'analytics_hourly',
      'analytics_daily',
      'analytics_monthly',
      'strata_watermarks',
      'strata_job_runs',
      'strata_audit_log',
    ]);
    for (const sql of statements) expect(sql).toContain('ENGINE=InnoDB DEFAULT CHARSET=utf8mb4');
  });

  it('partitions raw events by hour from 2 days back to 7 days ahead, with integer epoch bounds', () => {
    const sql = statementFor('analytics_realtime');
    expect(sql).toContain('PARTITION BY RANGE (UNIX_TIMESTAMP(created_at))');
    const names = partitionNames(sql);
    expect(names[0]).toBe('p2024022712');
    expect(names.at(-2)).toBe('p2024030712');
    expect(names.at(-1)).toBe('pmax');
    expect(names).toHaveLength(48 + 1 + 168 + 1);
    expect(sql).toContain('PARTITION p2024022912 VALUES LESS THAN (1709211600)');
    expect(sql).not.toMatch(/UNIX_TIMESTAMP\('/);
  });

  it('partitions the rollups by day, month and year over their windows, each with a catch-all pmax', () => {
    const hourly = statementFor('analytics_hourly');
    expect(hourly).toContain('PARTITION BY RANGE (TO_DAYS(hour_start))');
    expect(partitionNames(hourly)).toEqual([
      'p20240222', 'p20240223', 'p20240224', 'p20240225', 'p20240226', 'p20240227', 'p20240228', 'p20240229',
      'p20240301', 'p20240302', 'p20240303', 'p20240304', 'p20240305', 'p20240306', 'p20240307', 'pmax',
    ]);
    const daily = statementFor('analytics_daily');
    expect(daily).toContain('PARTITION BY RANGE (TO_DAYS(date))');
    expect(partitionNames(daily)[0]).toBe('p202302');
    expect(partitionNames(daily).slice(-2)).toEqual(['p202405', 'pmax']);
    const monthly = statementFor('analytics_monthly');
    expect(monthly).toContain('PARTITION BY RANGE (TO_DAYS(month_start))');
    expect(partitionNames(monthly)).toEqual(['p2019', 'p2020', 'p2021', 'p2022', 'p2023', 'p2024', 'p2025', 'pmax']);
  });

  it('keys the rollups by site and period, which also puts the partition column in every unique key', () => {
    expect(statementFor('analytics_realtime')).toContain('PRIMARY KEY (id, created_at)');
    expect(statementFor('analytics_realtime')).toContain('KEY idx_site_created (site_id, created_at)');
    expect(statementFor('analytics_hourly')).toContain('PRIMARY KEY (site_id, hour_start)');
    expect(statementFor('analytics_daily')).toContain('PRIMARY KEY (site_id, date)');
    expect(statementFor('analytics_monthly')).toContain('PRIMARY KEY (site_id, month_start)');
  });

  it('has a checksum that does not depend on when it runs, while the partitions do', () => {
    const later = new Date('2031-07-04T03:00:00Z');
    expect(initial?.statements(later)).not.toEqual(initial?.statements(now));
    const [again] = MIGRATIONS;
    expect(again?.checksum).toBe(initial?.checksum);
  });
});

describe('migration list', () => {
  it('numbers migrations 1, 2, 3… in order so the latest version is the last one', () => {
    expect(MIGRATIONS.map((migration) => migration.version)).toEqual(MIGRATIONS.map((_, index) => index + 1));
    expect(LATEST_VERSION).toBe(MIGRATIONS.length);
  });
});

describe('migration planner', () => {
  const fake = (version: number): Migration => ({ version, name: `step ${version}`, checksum: `sum${version}`, statements: () => [] });
  const known = [fake(1), fake(2), fake(3)];
  const record = (version: number, checksum = `sum${version}`) => ({ version, name: `step ${version}`, checksum });

  it('applies everything, in order, to a fresh shard', () => {
    const plan = planMigrations(known, []);
    expect(plan.kind === 'apply' && plan.pending.map((migration) => migration.version)).toEqual([1, 2, 3]);
  });

  it('applies only what is missing after the latest recorded version', () => {
    const plan = planMigrations(known, [record(1)]);
    expect(plan.kind === 'apply' && plan.pending.map((migration) => migration.version)).toEqual([2, 3]);
  });

  it('does nothing on an up-to-date shard', () => {
    expect(planMigrations(known, [record(1), record(2), record(3)])).toEqual({ kind: 'up-to-date', version: 3 });
  });

  it('refuses a shard migrated by a newer Strata', () => {
    const plan = planMigrations(known, [record(1), record(2), record(3), record(4)]);
    expect(plan.kind === 'refuse' && plan.reason).toMatch(/migration 4, which this version of Strata does not know; upgrade Strata/);
  });

  it('refuses a shard whose applied migration was edited since', () => {
    const plan = planMigrations(known, [record(1, 'other')]);
    expect(plan.kind === 'refuse' && plan.reason).toMatch(/migration 1 was applied from different SQL/);
  });

  it('refuses to fill a gap below the latest recorded version', () => {
    const plan = planMigrations(known, [record(1), record(3)]);
    expect(plan.kind === 'refuse' && plan.reason).toMatch(/migration 2 is not recorded although 3 is/);
  });
});
