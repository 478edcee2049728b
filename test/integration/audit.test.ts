import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntryRecord } from '../../src/shared/audit';
import { osUser } from '../../src/main/identity';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startTestCluster({ shards: 2 });
});

afterAll(async () => {
  await cluster?.down();
});

const strata = (...args: string[]) => runCli([...args, '--profile', cluster.profilePath]);

async function auditJson(...args: string[]): Promise<AuditEntryRecord[]> {
  const run = await strata('audit', '--json', ...args);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as AuditEntryRecord[];
}

describe('strata audit against a real 2-shard cluster', () => {
  it('says so when nothing has been changed yet', async () => {
    const run = await strata('audit');
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe('no audit entries yet');
    expect(await auditJson()).toEqual([]);
  });

  it('lists the changes made with the CLI newest first: when, who, where, what, and the details', async () => {
    expect((await strata('retention', 'set', '--raw-hours', '72')).code).toBe(0);
    expect((await strata('schedules', 'set', 'rollup-hourly', '5 * * * *')).code).toBe(0);
    expect((await strata('retention', 'set', '--hourly-days', '10')).code).toBe(0);

    const entries = await auditJson();
    expect(entries.map((entry) => [entry.action, entry.target])).toEqual([
      ['retention.set', 'retention'],
      ['schedule.set', 'rollup-hourly'],
      ['retention.set', 'retention'],
    ]);
    const times = entries.map((entry) => Date.parse(entry.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    for (const entry of entries) expect(entry).toMatchObject({ actor: osUser(), host: hostname() });
    expect(entries[0]!.detail).toBe('hourlyDays 7 → 10');
    expect(entries[2]!.detail).toBe('rawHours 48 → 72');
    expect(JSON.parse(entries[1]!.detail)).toEqual({ from: { cron: '0 * * * *', enabled: true }, to: { cron: '5 * * * *', enabled: true } });

    // The table for people: one line per entry after the header, newest first, JSON details on one line.
    const table = await strata('audit');
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^WHEN \(UTC\)\s+WHO\s+ACTION\s+TARGET\s+DETAIL$/);
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain(`${osUser()}@${hostname()}`);
    expect(lines[1]).toMatch(/retention\.set\s+retention\s+hourlyDays 7 → 10$/);
    expect(lines[2]).toMatch(/schedule\.set\s+rollup-hourly\s+\{"from":\{"cron":"0 \* \* \* \*","enabled":true\},"to":\{"cron":"5 \* \* \* \*","enabled":true\}\}$/);
  });

  it('filters by kind (a domain or a whole action), by time and by count', async () => {
    expect((await auditJson('--kind', 'retention')).map((entry) => entry.detail)).toEqual(['hourlyDays 7 → 10', 'rawHours 48 → 72']);
    expect((await auditJson('--kind', 'schedule.set')).map((entry) => entry.target)).toEqual(['rollup-hourly']);
    // A kind matches a whole domain or action, never a prefix of one.
    expect(await auditJson('--kind', 'sched')).toEqual([]);

    const all = await auditJson();
    const since = await auditJson('--since', all[1]!.at);
    expect(since.map((entry) => entry.id)).toEqual([all[0]!.id, all[1]!.id]);
    // Tomorrow: nothing yet (times more than a year ahead are refused as a likely typo).
    const tomorrow = new Date(Math.floor(Date.now() / 86_400_000 + 1) * 86_400_000).toISOString().slice(0, 10);
    expect(await auditJson('--since', tomorrow)).toEqual([]);
    expect((await strata('audit', '--since', tomorrow)).stdout.trim()).toBe(`no audit entries since ${tomorrow}T00:00:00.000Z`);
    expect((await auditJson('--limit', '1')).map((entry) => entry.id)).toEqual([all[0]!.id]);
  });

  it('refuses a bad --since, --kind or --limit with one numbered line and exit 2, and changes nothing', async () => {
    const before = await cluster.services.state.audit.list({});
    const refusals: Array<[string[], RegExp]> = [
      [['--since', 'yesterday'], /^strata: error 14001 \(AuditQueryInvalid\): --since must be an ISO-8601 UTC time such as 2025-03-01T00:00:00Z or 2025-03-01T00:00Z, got 'yesterday'$/],
      [['--since', '2026-03-01T10:00:00+02:00'], /^strata: error 14001 \(AuditQueryInvalid\): --since must be in UTC \(end in Z\), got '2026-03-01T10:00:00\+02:00'$/],
      [['--kind', 'Retention; DROP TABLE x'], /^strata: error 14001 \(AuditQueryInvalid\): --kind: a kind is an action or its domain, such as retention or retention\.set, got 'Retention; DROP TABLE x'$/],
      [['--limit', '0'], /^strata: error 14001 \(AuditQueryInvalid\): --limit must be a whole number from 1 to 1000, got '0'$/],
    ];
    for (const [args, message] of refusals) {
      const run = await strata('audit', ...args);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(message)]);
    }
    const json = await strata('audit', '--json', '--since', 'yesterday');
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, code: 14001 });
    // Refused before the profile is even read, so a bad option never reaches the cluster.
    const unread = await runCli(['audit', '--since', 'yesterday', '--profile', `${cluster.dir}/no-such-profile.json`]);
    expect(unread.stderr).toMatch(/^strata: error 14001 /);
    expect(await cluster.services.state.audit.list({})).toEqual(before);
  });
});
