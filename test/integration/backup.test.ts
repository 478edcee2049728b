import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupManifestSchema } from '../../src/shared/backup';
import { silentLogger } from '../../src/main/log';
import { EnvSecretResolver } from '../../src/main/secrets';
import { createServices } from '../../src/main/services';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

const HOUR = 3_600_000;
const H = Math.floor(Date.now() / HOUR) * HOUR;

describe('backup sets of real shards', () => {
  let cluster: TestCluster;
  let dest: string;
  const count = async (shard: number, table: string) => Number((await cluster.services.connections.query<Array<{ n: number }>>(shard, `SELECT COUNT(*) AS n FROM ${table}`))[0]!.n);

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
    dest = await mkdtemp(join(tmpdir(), 'strata-backup-dest-'));
    await cluster.services.generator.run({ from: new Date(H - 6 * HOUR).toISOString(), to: new Date(H).toISOString(), sites: 20, views: 3000, seed: 4 });
    for (const level of ['hourly', 'daily', 'monthly'] as const) expect((await cluster.services.rollup.runDue(level, { trigger: 'manual' })).ok).toBe(true);
  }, 120_000);

  afterAll(async () => {
    await cluster?.down();
    if (dest) await rm(dest, { recursive: true, force: true });
  });

  it('dumps 2 shards into zstd files whose manifest, catalog row, checksums and row counts agree with the shards', async () => {
    const started = await cluster.services.backup.start({ dest });
    const record = await started.done;
    expect(record.state).toBe('ok');
    const manifest = backupManifestSchema.parse(JSON.parse(await readFile(record.manifestPath, 'utf8')));
    expect(manifest.parts.map((part) => part.sha256)).toEqual(record.parts.map((part) => part.sha256));
    expect(manifest.parts.map((part) => part.rowCounts)).toEqual(record.parts.map((part) => part.rowCounts));
    for (const part of record.parts) {
      const file = join(dest, part.file);
      const bytes = readFileSync(file);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(part.sha256);
      expect(bytes.length).toBe(part.bytes);
      const sql = execFileSync('zstd', ['-dc', file], { maxBuffer: 256 * 1024 * 1024 }).toString('utf8');
      expect(sql.length).toBe(part.dumpBytes);
      expect(sql).toMatch(/INSERT INTO `analytics_hourly` VALUES\s*\(/);
      for (const table of ['analytics_hourly', 'analytics_daily', 'analytics_monthly', 'strata_watermarks', 'strata_job_runs']) {
        expect(part.rowCounts.find((entry) => entry.table === table)?.rows, `${part.shardName} ${table}`).toBe(await count(part.shard, table));
      }
      expect(part.rowCounts.find((entry) => entry.table === 'analytics_hourly')!.rows).toBeGreaterThan(0);
      const marks = await cluster.services.connections.query<Array<{ level: string; watermark: Date | null }>>(part.shard, 'SELECT level, watermark FROM strata_watermarks ORDER BY level');
      expect(marks.length).toBeGreaterThan(0);
      expect(part.watermarks.map((mark) => [mark.level, mark.watermark]).sort()).toEqual(marks.map((mark) => [mark.level, mark.watermark ? mark.watermark.toISOString().replace('.000Z', 'Z') : null]));
      expect(part.options.slice(0, 5)).toEqual(['--single-transaction', '--routines', '--triggers', '--quick', '--hex-blob']);
    }
    const leftovers = (await readdir(dest)).filter((name) => name.endsWith('.partial'));
    expect(leftovers).toEqual([]);
    const list = await cluster.services.backup.list();
    expect(list.sets[0]?.id).toBe(record.id);
    expect(list.newestVerified.map((entry) => entry.setId)).toEqual([null, null]);
  }, 120_000);

  it('gives the dump its password only through the defaults file: never in its command line or environment', async () => {
    const password = 'Backup-S3cret-pw';
    for (const shard of [0, 1]) {
      await cluster.services.connections.query(shard, `CREATE USER IF NOT EXISTS 'strata_bk'@'%' IDENTIFIED BY '${password}'`);
      await cluster.services.connections.query(shard, `GRANT ALL ON *.* TO 'strata_bk'@'%'`);
    }
    const profile = { ...cluster.profile, shards: cluster.profile.shards.map((shard) => ({ ...shard, user: 'strata_bk', passwordEnv: 'TEST_BACKUP_PASSWORD' })) };
    const seen: Array<{ cmdline: string; environ: string }> = [];
    const services = createServices({
      profile,
      secrets: new EnvSecretResolver({ TEST_BACKUP_PASSWORD: password }),
      logger: silentLogger,
      backup: {
        onDumpSpawn: (_shard, pid) => {
          seen.push({ cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8'), environ: readFileSync(`/proc/${pid}/environ`, 'utf8') });
        },
      },
    });
    process.env.TEST_BACKUP_PASSWORD_LEAK_CHECK = password;
    try {
      const record = await (await services.backup.start({ dest, tables: ['monthly'] })).done;
      expect(record.state).toBe('ok');
      expect(seen).toHaveLength(2);
      for (const entry of seen) {
        expect(entry.cmdline.split('\0')[1]).toMatch(/^--defaults-extra-file=\/.*strata-dump-.*\/strata-dump\.cnf$/);
        expect(entry.cmdline).not.toContain(password);
        expect(entry.environ).not.toContain(password);
        expect(entry.environ).not.toMatch(/MYSQL_PWD|STRATA_|TEST_BACKUP/);
      }
      // The private folder with the defaults file is gone once the dumps ended.
      for (const entry of seen) expect(existsSync(dirname(entry.cmdline.split('\0')[1]!.slice('--defaults-extra-file='.length)))).toBe(false);
    } finally {
      delete process.env.TEST_BACKUP_PASSWORD_LEAK_CHECK;
      await services.dispose();
    }
  }, 120_000);

  it('refuses before anything starts when the dump client is missing, naming what it looked for', async () => {
    const before = (await cluster.services.backup.list()).sets.length;
    const run = await runCli(['backup', 'run', '--dest', dest, '--profile', cluster.profilePath], { STRATA_DUMP_CLIENT: '/nonexistent/mysqldump' });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/error 11002 \(BackupClientMissing\).*\/nonexistent\/mysqldump.*STRATA_DUMP_CLIENT/);
    expect((await cluster.services.backup.list()).sets.length).toBe(before);
  }, 60_000);

  it('prints the dry run with the exact command and a defaults file in place of the password', async () => {
    const run = await runCli(['backup', 'run', '--dry-run', '--json', '--dest', dest, '--profile', cluster.profilePath]);
    expect(run.code).toBe(0);
    const plan = JSON.parse(run.stdout) as { shards: Array<{ command: string[]; tables: Array<{ table: string }> }>; freeBytes: number };
    expect(plan.freeBytes).toBeGreaterThan(0);
    expect(plan.shards[0]!.command[1]).toBe('--defaults-extra-file=<private temp folder>/strata-dump.cnf');
    expect(plan.shards[0]!.tables.map((table) => table.table)).toEqual(['analytics_hourly', 'analytics_daily', 'analytics_monthly', 'strata_watermarks', 'strata_job_runs']);
  }, 60_000);

  it('marks the set partial and exits 1 when a shard is down; the other shard completes and no partial file is left', async () => {
    const partialDest = await mkdtemp(join(tmpdir(), 'strata-backup-partial-'));
    await cluster.stopShard(1);
    try {
      const run = await runCli(['backup', 'run', '--dest', partialDest, '--json', '--profile', cluster.profilePath]);
      expect(run.code).toBe(1);
      const record = JSON.parse(run.stdout) as { state: string; parts: Array<{ outcome: string; error: { message: string } | null }> };
      expect(record.state).toBe('partial');
      expect(record.parts[0]!.outcome).toBe('ok');
      expect(record.parts[1]!.outcome).toBe('failed');
      expect(record.parts[1]!.error?.message).toMatch(/shard1|127\.0\.0\.1/);
      const files = await readdir(partialDest);
      expect(files.filter((name) => name.endsWith('.partial') || name.includes('-shard1'))).toEqual([]);
      expect(files.filter((name) => name.includes('-shard0'))).toHaveLength(1);
    } finally {
      await cluster.startShard(1);
      await rm(partialDest, { recursive: true, force: true });
    }
  }, 120_000);

});
