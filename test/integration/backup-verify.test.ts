import { access, open, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumStatement, columnsStatement, scratchDatabaseName } from '../../src/main/backup/restore-planner';
import { partFilePath } from '../../src/main/backup/restore-service';
import type { ShardConfig } from '../../src/shared/profile';
import type { BackupPruneReport, BackupRestoreReport, BackupSetRecord, BackupVerifyReport } from '../../src/shared/backup';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

const TABLES = ['analytics_hourly', 'analytics_daily', 'analytics_monthly', 'strata_watermarks', 'strata_job_runs'];
const BACKUP_WATERMARK = new Date('2026-11-30T00:00:00Z');

describe('backup verify and restore on real shards', () => {
  let cluster: TestCluster;
  const query = <T>(shard: number, sql: string, params: unknown[] = []) => cluster.services.connections.query<T>(shard, sql, params, { kind: 'write' });
  const cli = (...args: string[]) => runCli([...args, '--profile', cluster.profilePath]);

  /** Row count and content checksum of every backed-up table of a database, as verify computes them. */
  async function checksums(shard: number, database: string): Promise<Record<string, string>> {
    const result: Record<string, string> = {};
    for (const table of TABLES) {
      const columns = columnsStatement(database, table);
      const names = (await query<Array<{ name: string }>>(shard, columns.sql, columns.params)).map((row) => row.name);
      const statement = checksumStatement(database, table, names);
      const [row] = await query<Array<{ row_count: number; checksum: string }>>(shard, statement.sql);
      result[table] = `${row!.row_count}:${row!.checksum}`;
    }
    return result;
  }

  async function scratchDatabases(shard: number): Promise<string[]> {
    const rows = await query<Array<{ name: string }>>(shard, "SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'strata\\_verify\\_%'");
    return rows.map((row) => row.name);
  }

  async function takeBackup(): Promise<BackupSetRecord> {
    const started = await cluster.services.backup.start({ dest: join(cluster.dir, 'backups') });
    const record = await started.done;
    expect(record.state).toBe('ok');
    return record;
  }

  async function verifyOutcome(record: BackupSetRecord, shard: number): Promise<string | null> {
    const [row] = await query<Array<{ verify_outcome: string | null }>>(0, 'SELECT verify_outcome FROM strata_backup_parts WHERE set_id = ? AND shard_index = ?', [record.id, shard]);
    return row?.verify_outcome ?? null;
  }

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
    for (const shard of [0, 1]) {
      // Distinct rows per shard, with NULL and binary sketches, so a checksum would notice a swapped or lost byte.
      await query(shard, `INSERT INTO analytics_hourly (site_id, hour_start, page_views, visitors, visitors_sketch) SELECT seq * 2 + ?, TIMESTAMP('2026-11-29') + INTERVAL (seq % 48) HOUR, seq * 7, seq, IF(seq % 3 = 0, NULL, UNHEX(SHA2(seq, 256))) FROM seq_1_to_2000`, [shard]);
      await query(shard, `INSERT INTO analytics_daily (site_id, date, page_views, visitors) SELECT seq * 2 + ?, DATE('2026-11-01') + INTERVAL (seq % 29) DAY, seq * 11, seq FROM seq_1_to_900`, [shard]);
      await query(shard, `INSERT INTO analytics_monthly (site_id, month_start, page_views, visitors) SELECT seq * 2 + ?, DATE('2026-10-01'), seq * 13, seq FROM seq_1_to_50`, [shard]);
      await query(shard, "REPLACE INTO strata_watermarks (level, watermark, covered_from, fencing_token, updated_at, updated_by) VALUES ('hourly', ?, '2026-11-29', 3, ?, 'test')", [BACKUP_WATERMARK, new Date(Date.now() - 60_000)]);
    }
  }, 120_000);

  afterAll(async () => {
    await cluster?.down();
  });

  it('verifies a fresh backup by restoring it into scratch databases, records it, and drops them', async () => {
    const record = await takeBackup();
    const run = await cli('backup', 'verify', record.id, '--json');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as BackupVerifyReport;
    expect(report.parts.map((part) => [part.shard, part.outcome, part.error])).toEqual([
      [0, 'ok', null],
      [1, 'ok', null],
    ]);
    const daily = report.parts[0]!.tables.find((table) => table.table === 'analytics_daily');
    expect(daily).toEqual({ table: 'analytics_daily', expectedRows: 900, actualRows: 900, checksumMatches: true });
    expect(report.parts[0]!.tables.every((table) => table.checksumMatches === true)).toBe(true);
    expect(await verifyOutcome(record, 0)).toBe('ok');
    expect(await verifyOutcome(record, 1)).toBe('ok');
    expect(await scratchDatabases(0)).toEqual([]);
    expect(await scratchDatabases(1)).toEqual([]);
    const list = await cluster.services.backup.list();
    expect(list.newestVerified.map((entry) => entry.setId)).toEqual([record.id, record.id]);
  }, 120_000);

  it('fails a file with one corrupted byte, and a truncated one, with a sentence saying what did not match (exit 1)', async () => {
    const record = await takeBackup();
    const corrupted = partFilePath(record, record.parts[0]!);
    const handle = await open(corrupted, 'r+');
    const middle = Math.floor(record.parts[0]!.bytes / 2);
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, middle);
    await handle.write(Buffer.from([byte[0]! ^ 0xff]), 0, 1, middle);
    await handle.close();
    const truncated = partFilePath(record, record.parts[1]!);
    await truncate(truncated, record.parts[1]!.bytes - 100);

    const run = await cli('backup', 'verify', record.id);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${corrupted}: its sha256 is `);
    expect(run.stderr).toMatch(/the manifest says [0-9a-f]{64}: the file was changed or corrupted after the backup/);
    expect(run.stderr).toContain(`${truncated}: the file is ${record.parts[1]!.bytes - 100} bytes, the manifest says ${record.parts[1]!.bytes}: it was truncated after the backup`);
    expect(run.stdout).toMatch(/VERIFY FAILED/);
    expect(await verifyOutcome(record, 0)).toBe('failed');
    expect(await verifyOutcome(record, 1)).toBe('failed');
    expect(await scratchDatabases(0)).toEqual([]);
  }, 120_000);

  it('restores into a scratch database with every row identical to the source', async () => {
    const record = await takeBackup();
    const run = await cli('backup', 'restore', record.id, '--shard', '1', '--json');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as BackupRestoreReport;
    expect(report).toMatchObject({ setId: record.id, shard: 1, replaced: false, database: expect.stringMatching(/^strata_restore_.*_1$/) });
    expect(report.tables.find((table) => table.table === 'analytics_hourly')?.rows).toBe(2000);
    expect(await checksums(1, report.database)).toEqual(await checksums(1, cluster.profile.shards[1]!.database));
    await query(1, `DROP DATABASE \`${report.database}\``);
  }, 120_000);

  it('refuses --replace without --yes and without a terminal (exit 2, nothing changed); with --yes the watermarks are the backup\'s', async () => {
    const record = await takeBackup();
    const live = cluster.profile.shards[0]!.database;
    const atBackup = await checksums(0, live);
    // After the backup: a later hour rolled up and its watermark moved on, and a day lost.
    await query(0, "INSERT INTO analytics_hourly (site_id, hour_start, page_views, visitors) VALUES (9999, '2026-11-30 05:00:00', 5, 1)");
    await query(0, "DELETE FROM analytics_daily WHERE date = '2026-11-05'");
    await query(0, "UPDATE strata_watermarks SET watermark = '2026-11-30 06:00:00', fencing_token = 4 WHERE level = 'hourly'");
    const changed = await checksums(0, live);

    const refused = await cli('backup', 'restore', record.id, '--shard', '0', '--replace');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/not restored: --replace needs a typed confirmation on a terminal, or --yes/);
    expect(await checksums(0, live)).toEqual(changed);

    const restored = await cli('backup', 'restore', record.id, '--shard', '0', '--replace', '--yes', '--json');
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    const report = JSON.parse(restored.stdout) as BackupRestoreReport;
    expect(report).toMatchObject({ replaced: true, database: live });
    const after = await checksums(0, live);
    for (const table of ['analytics_hourly', 'analytics_daily', 'analytics_monthly']) expect(after[table]).toBe(atBackup[table]);
    const [hourly] = await query<Array<{ watermark: Date; fencing_token: number }>>(0, "SELECT watermark, fencing_token FROM strata_watermarks WHERE level = 'hourly'");
    expect(hourly!.watermark).toEqual(BACKUP_WATERMARK);
    const sameInstant = (text: string | null | undefined) => (text ? new Date(text).getTime() : undefined);
    expect(sameInstant(report.watermarks.find((entry) => entry.level === 'hourly')?.watermark)).toBe(BACKUP_WATERMARK.getTime());
    // The restore ran under a lease token newer than any before, and the watermark keeps it: an older holder cannot move it.
    expect(Number(hourly!.fencing_token)).toBeGreaterThan(4);
    const [audit] = await query<Array<{ action: string; target: string; detail: string }>>(0, "SELECT action, target, detail FROM strata_audit_log WHERE action = 'backup.restore' ORDER BY id DESC LIMIT 1");
    expect(audit).toMatchObject({ action: 'backup.restore', target: `${record.id} ${record.parts[0]!.shardName}` });
    const detail = JSON.parse(audit!.detail) as { replaced: boolean; watermarksSetBack: Array<{ level: string; to: string | null }> };
    expect(detail.replaced).toBe(true);
    expect(sameInstant(detail.watermarksSetBack.find((entry) => entry.level === 'hourly')?.to)).toBe(BACKUP_WATERMARK.getTime());
    // The manifest beside the files says the same watermark.
    const manifest = JSON.parse(await readFile(record.manifestPath, 'utf8')) as { parts: Array<{ watermarks: Array<{ level: string; watermark: string }> }> };
    expect(sameInstant(manifest.parts[0]!.watermarks.find((entry) => entry.level === 'hourly')?.watermark)).toBe(BACKUP_WATERMARK.getTime());
  }, 180_000);

  it('prunes by the stored policy, never the newest verified set of a shard, removing files and catalog rows', async () => {
    const sets = (await cluster.services.backup.list()).sets;
    expect(sets).toHaveLength(4);
    const [newest, , , oldest] = sets as [BackupSetRecord, BackupSetRecord, BackupSetRecord, BackupSetRecord];
    const set = await cli('backup', 'retention', '--keep-sets', '1', '--keep-days', 'none', '--json');
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ policy: { keepSets: 1, keepDays: null }, isDefault: false });
    const [audit] = await query<Array<{ detail: string }>>(0, "SELECT detail FROM strata_audit_log WHERE action = 'backup.retention' ORDER BY id DESC LIMIT 1");
    expect(JSON.parse(audit!.detail)).toEqual({ from: { keepSets: 7, keepDays: 14 }, to: { keepSets: 1, keepDays: null } });

    const dry = JSON.parse((await cli('backup', 'prune', '--dry-run', '--json')).stdout) as BackupPruneReport;
    const removedIds = sets.slice(1, 3).map((entry) => entry.id).sort();
    expect(dry.removed.map((entry) => entry.setId).sort()).toEqual(removedIds);
    expect(dry.kept).toEqual([
      { setId: newest.id, reason: 'one of the newest sets' },
      { setId: oldest.id, reason: `the newest verified backup of ${oldest.parts.map((part) => part.shardName).join(', ')}` },
    ]);
    expect((await cluster.services.backup.list()).sets).toHaveLength(4);

    const pruned = await cli('backup', 'prune', '--json');
    expect(pruned.code).toBe(0);
    expect((JSON.parse(pruned.stdout) as BackupPruneReport).removed.map((entry) => entry.setId).sort()).toEqual(removedIds);
    expect((await cluster.services.backup.list()).sets.map((entry) => entry.id)).toEqual([newest.id, oldest.id]);
    for (const gone of sets.slice(1, 3)) {
      for (const part of gone.parts) await expect(access(partFilePath(gone, part))).rejects.toThrow();
      await expect(access(gone.manifestPath)).rejects.toThrow();
    }
    await expect(access(partFilePath(oldest, oldest.parts[0]!))).resolves.toBeUndefined();
  }, 120_000);

  it('with backup.verifyServer, creates, loads and drops the scratch database on that server, not on the part\'s shard; a verifyServer that is down fails naming it', async () => {
    const record = await takeBackup();
    const withVerifyServer = async (verifyServer: ShardConfig) => {
      const path = join(cluster.dir, `verify-server-${verifyServer.port}.json`);
      await writeFile(path, JSON.stringify({ ...cluster.profile, backup: { ...cluster.profile.backup, verifyServer } }));
      return path;
    };
    // A leftover scratch database of this part on both servers: verify starts afresh (drops it) only where it loads.
    const scratch = scratchDatabaseName('verify', record.id, 0);
    for (const shard of [0, 1]) await query(shard, `CREATE DATABASE \`${scratch}\``);

    const onShardOne = await withVerifyServer(cluster.profile.shards[1]!);
    const run = await runCli(['backup', 'verify', record.id, '--shards', '0', '--json', '--profile', onShardOne]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as BackupVerifyReport;
    expect(report.parts.map((part) => [part.shard, part.outcome])).toEqual([[0, 'ok']]);
    // Shard 1 holds other rows than shard 0, so matching checksums mean the source side was still shard 0.
    expect(report.parts[0]!.tables.every((table) => table.checksumMatches === true)).toBe(true);
    expect(await scratchDatabases(1)).toEqual([]);
    expect(await scratchDatabases(0)).toEqual([scratch]);
    await query(0, `DROP DATABASE \`${scratch}\``);

    const down = { ...cluster.profile.shards[1]!, name: 'spare', host: '127.0.0.1', port: 1 };
    const failed = await runCli(['backup', 'verify', record.id, '--shards', '0', '--profile', await withVerifyServer(down)]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('failed verification: backup.verifyServer spare (127.0.0.1:1): connection refused; is the server running?');
    expect(await scratchDatabases(0)).toEqual([]);
    expect(await scratchDatabases(1)).toEqual([]);
  }, 120_000);
});
