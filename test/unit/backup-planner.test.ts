import { describe, expect, it } from 'vitest';
import { backupTables } from '../../src/shared/backup';
import { DumpScanner } from '../../src/main/backup/dump-scanner';
import { checkClientVersion, cleanChildEnv, defaultsFileText, dumpCommand, dumpOptions, parseDumpClient, roomRefusal } from '../../src/main/backup/planner';

const mariadb = parseDumpClient('/usr/bin/mariadb-dump', 'mariadb-dump  Ver 10.19 Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)\n')!;
const mysql8 = parseDumpClient('/usr/bin/mysqldump', 'mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)')!;

describe('backup planner', () => {
  it('tells MariaDB and MySQL clients apart and refuses one that is too old, naming it', () => {
    expect(mariadb).toMatchObject({ kind: 'mariadb-dump', flavor: 'mariadb', version: '10.11.19' });
    expect(mysql8).toMatchObject({ kind: 'mysqldump', flavor: 'mysql', version: '8.0.36' });
    const old = parseDumpClient('/opt/mysqldump', 'mysqldump  Ver 10.13 Distrib 5.6.51, for Linux (x86_64)')!;
    expect(() => checkClientVersion(old)).toThrow(/\/opt\/mysqldump is MySQL 5\.6\.51.*5\.7\.0 or later/);
  });

  it('puts the defaults file first and records the binlog position the way each client spells it', () => {
    const tables = backupTables({ includeRaw: false });
    expect(tables).toEqual(['analytics_hourly', 'analytics_daily', 'analytics_monthly', 'strata_watermarks', 'strata_job_runs']);
    const argv = dumpCommand(mariadb, '/tmp/x/strata-dump.cnf', dumpOptions({ client: mariadb, binaryLogging: true, database: 'analytics', tables }));
    expect(argv.slice(0, 7)).toEqual(['/usr/bin/mariadb-dump', '--defaults-extra-file=/tmp/x/strata-dump.cnf', '--single-transaction', '--routines', '--triggers', '--quick', '--hex-blob']);
    expect(argv).toContain('--master-data=2');
    expect(argv).toContain('--gtid');
    expect(dumpOptions({ client: mysql8, binaryLogging: true, database: 'a', tables })).toContain('--source-data=2');
    expect(dumpOptions({ client: mariadb, binaryLogging: false, database: 'a', tables }).some((option) => /master-data|gtid/.test(option))).toBe(false);
    expect(backupTables({ tables: ['daily'], includeRaw: true })).toEqual(['analytics_daily', 'analytics_realtime', 'strata_watermarks', 'strata_job_runs']);
  });

  it('writes the password only into the defaults file, quoted, and gives the child no secret variables', () => {
    expect(defaultsFileText({ host: 'db0', port: 3306, user: 'strata', password: 'p"a\\ss' })).toBe('[client]\nhost="db0"\nport=3306\nprotocol=TCP\nuser="strata"\npassword="p\\"a\\\\ss"\n');
    expect(cleanChildEnv({ PATH: '/usr/bin', MYSQL_PWD: 'x', STRATA_SHARD0_PASSWORD: 'y', LANG: 'C.UTF-8' })).toEqual({ PATH: '/usr/bin', LANG: 'C.UTF-8' });
  });

  it('refuses a destination without room for the estimate, naming it and the bytes needed', () => {
    expect(roomRefusal('/mnt/b', 10_000_000, 100_000_000)).toBeUndefined();
    expect(roomRefusal('/mnt/b', 10_000_000, 5_000_000)).toMatch(/the destination \/mnt\/b has 5000000 bytes free; this backup needs about 13048576 bytes/);
  });
});

describe('dump scanner', () => {
  it('counts tuples across chunk boundaries, ignoring parentheses, quotes and escapes inside values', () => {
    const dump = [
      '-- Table structure for table `strata_watermarks`',
      'CREATE TABLE `strata_watermarks` (',
      '  `level` varchar(16) NOT NULL,',
      '  `watermark` datetime DEFAULT NULL,',
      '  PRIMARY KEY (`level`)',
      ') ENGINE=InnoDB;',
      "INSERT INTO `strata_watermarks` VALUES ('daily','2026-12-01 00:00:00'),('hourly',NULL);",
      '-- Table structure for table `analytics_realtime`',
      "INSERT INTO `analytics_realtime` VALUES (1,'/a),(b',NULL),(2,'it\\'s (x)','r');",
      'INSERT INTO `analytics_realtime` VALUES',
      "(3,'/c',NULL),",
      "(4,'/d;(',NULL);",
      "-- CHANGE MASTER TO MASTER_LOG_FILE='bin.000003', MASTER_LOG_POS=1234;",
      '-- Dump completed on 2026-12-02  7:13:39',
      '',
    ].join('\n');
    const scanner = new DumpScanner(new Set(['strata_watermarks']));
    const bytes = Buffer.from(dump);
    for (let at = 0; at < bytes.length; at += 7) scanner.write(bytes.subarray(at, at + 7));
    const scan = scanner.end();
    expect(scanner.rowsOf('analytics_realtime')).toBe(4);
    expect(scanner.rowsOf('strata_watermarks')).toBe(2);
    expect(scanner.capturedRows('strata_watermarks')).toEqual([
      { level: 'daily', watermark: '2026-12-01 00:00:00' },
      { level: 'hourly', watermark: null },
    ]);
    expect(scan).toMatchObject({ tablesDone: 2, completed: true, position: { file: 'bin.000003', position: 1234, gtid: null } });
  });

  it('says a dump without its closing line is incomplete', () => {
    const scanner = new DumpScanner();
    scanner.write(Buffer.from('INSERT INTO `t` VALUES (1),(2'));
    expect(scanner.end().completed).toBe(false);
  });
});
