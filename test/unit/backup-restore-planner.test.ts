import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import {
  checksumStatement,
  describeMismatches,
  DumpTableFilter,
  restoreTarget,
  scratchDatabaseName,
  tablesToRestore,
  watermarkResetStatements,
} from '../../src/main/backup/restore-planner';
import { ErrorCode } from '../../src/shared/errors';

const DUMP = [
  '-- MariaDB dump 10.19',
  "/*!40101 SET NAMES utf8mb4 */;",
  '--',
  '-- Table structure for table `analytics_daily`',
  '--',
  'CREATE TABLE `analytics_daily` (`site_id` int);',
  '-- Dumping data for table `analytics_daily`',
  'INSERT INTO `analytics_daily` VALUES (1),(2);',
  '--',
  '-- Table structure for table `analytics_hourly`',
  'CREATE TABLE `analytics_hourly` (`site_id` int);',
  '-- Dumping data for table `analytics_hourly`',
  "INSERT INTO `analytics_hourly` VALUES (3,'\u00e9\u0000');",
  '-- Dumping routines for database \'analytics\'',
  '/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;',
  '',
].join('\n');

/** Runs a dump through the filter in chunks of `size` bytes, so markers split across chunks are found too. */
async function filtered(dump: string, tables: string[] | undefined, size: number): Promise<string> {
  const bytes = Buffer.from(dump, 'utf8');
  const chunks = Array.from({ length: Math.ceil(bytes.length / size) }, (_, index) => bytes.subarray(index * size, (index + 1) * size));
  return (await buffer(Readable.from(chunks).pipe(new DumpTableFilter(tables ? new Set(tables) : undefined)))).toString('utf8');
}

describe('restore planning', () => {
  it('names scratch databases after the set and shard, within 64 characters and distinct for long ids', () => {
    expect(scratchDatabaseName('verify', '20261202T010000Z-3f2a', 1)).toBe('strata_verify_20261202t010000z_3f2a_1');
    const long = scratchDatabaseName('restore', `${'x'.repeat(60)}-a`, 12);
    expect(long.length).toBeLessThanOrEqual(64);
    expect(long).not.toBe(scratchDatabaseName('restore', `${'x'.repeat(60)}-b`, 12));
    expect(long).toMatch(/^strata_restore_x+_[0-9a-f]{10}_12$/);
  });

  it('restores into another database unless --replace, and never into the live one by accident', () => {
    const base = { setId: 's1', shard: 0, liveDatabase: 'analytics' };
    expect(restoreTarget({ ...base, replace: false })).toEqual({ database: 'strata_restore_s1_0', replace: false });
    expect(restoreTarget({ ...base, into: 'copy_0', replace: false })).toEqual({ database: 'copy_0', replace: false });
    expect(restoreTarget({ ...base, replace: true })).toEqual({ database: 'analytics', replace: true });
    expect(() => restoreTarget({ ...base, into: 'analytics', replace: false })).toThrow(expect.objectContaining({ code: ErrorCode.BackupRestoreRefused, message: expect.stringMatching(/needs --replace/) }));
    expect(() => restoreTarget({ ...base, into: 'other', replace: true })).toThrow(/--replace restores into the shard's live database analytics/);
    expect(() => restoreTarget({ ...base, into: 'bad-name', replace: false })).toThrow(/letters, digits or underscores/);
  });

  it('never restores the run history or the dumped watermarks over the live database', () => {
    const dumped = ['analytics_hourly', 'analytics_daily', 'strata_watermarks', 'strata_job_runs'];
    expect(tablesToRestore(dumped, undefined, false)).toEqual(dumped);
    expect(tablesToRestore(dumped, undefined, true)).toEqual(['analytics_hourly', 'analytics_daily']);
    expect(tablesToRestore(dumped, ['analytics_daily'], true)).toEqual(['analytics_daily']);
    expect(() => tablesToRestore(dumped, ['analytics_monthly'], false)).toThrow(/holds no table analytics_monthly/);
    expect(() => tablesToRestore(dumped, ['strata_watermarks'], true)).toThrow(/nothing to restore/);
  });

  it('sets each restored level back to the backup\'s watermark under the restore\'s fencing token', () => {
    const at = new Date('2026-12-02T07:00:00Z');
    const statements = watermarkResetStatements(['hourly', 'monthly'], [{ level: 'hourly', watermark: '2026-12-02T01:00:00.000Z', coveredFrom: '2026-11-20T00:00:00.000Z', fencingToken: 4 }], 9, 'dba@ops1', at);
    expect(statements).toHaveLength(4);
    expect(statements[1]!.sql).toMatch(/fencing_token = GREATEST\(fencing_token, \?\)[\s\S]*WHERE level = \? AND fencing_token <= \?/);
    expect(statements[1]!.params).toEqual([new Date('2026-12-02T01:00:00Z'), new Date('2026-11-20T00:00:00Z'), 9, at, 'dba@ops1', 'hourly', 9]);
    // A level without a watermark at the snapshot goes back to none.
    expect(statements[3]!.params.slice(0, 2)).toEqual([null, null]);
  });

  it('checksums every column by its bytes, NULL apart from the empty string', () => {
    expect(checksumStatement('strata_verify_s_0', 'analytics_daily', ['site_id', 'date']).sql).toBe(
      "SELECT COUNT(*) AS row_count, COALESCE(SUM(CRC32(CONCAT_WS('#', COALESCE(HEX(CONCAT(`site_id`)), 'n'), COALESCE(HEX(CONCAT(`date`)), 'n')))), 0) AS checksum FROM `strata_verify_s_0`.`analytics_daily`",
    );
  });

  it('says what did not match', () => {
    expect(describeMismatches('s-shard0.sql.zst', [{ table: 'analytics_daily', expectedRows: 10, actualRows: 10, checksumMatches: true }])).toBeUndefined();
    expect(
      describeMismatches('s-shard0.sql.zst', [
        { table: 'analytics_daily', expectedRows: 10, actualRows: 7, checksumMatches: null },
        { table: 'analytics_hourly', expectedRows: 3, actualRows: 3, checksumMatches: false },
        { table: 'analytics_monthly', expectedRows: 2, actualRows: null, checksumMatches: null },
      ]),
    ).toBe("s-shard0.sql.zst: analytics_daily restored 7 rows, the manifest counts 10; analytics_hourly's content checksum differs from the source's; analytics_monthly is missing after the restore (the manifest counts 2 rows)");
  });

  it('keeps only the chosen tables of a dump, with its header, byte for byte, whatever the chunking', async () => {
    for (const size of [1, 7, 64, 4096]) {
      expect(await filtered(DUMP, undefined, size)).toBe(DUMP);
      const hourly = await filtered(DUMP, ['analytics_hourly'], size);
      expect(hourly).toContain("INSERT INTO `analytics_hourly` VALUES (3,'\u00e9\u0000');");
      expect(hourly).toContain('SET NAMES utf8mb4');
      expect(hourly).toContain('SET TIME_ZONE=@OLD_TIME_ZONE');
      expect(hourly).not.toContain('analytics_daily');
    }
  });

  it('refuses a dump that switches database', async () => {
    await expect(filtered('-- dump\nUSE `analytics`;\nINSERT INTO t VALUES (1);\n', undefined, 5)).rejects.toMatchObject({ code: ErrorCode.BackupRestoreRefused });
  });
});
