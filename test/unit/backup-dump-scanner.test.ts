import { describe, expect, it } from 'vitest';
import { DumpScanner, type DumpScan } from '../../src/main/backup/dump-scanner';

/** A dump as mariadb-dump 10.11 writes it: each tuple on its own line after `VALUES`. */
const MARIADB_DUMP = [
  '-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)',
  "-- CHANGE MASTER TO MASTER_LOG_FILE='shard0-bin.000003', MASTER_LOG_POS=4521;",
  "-- SET GLOBAL gtid_slave_pos='0-1-77';",
  '--',
  '-- Table structure for table `analytics_hourly`',
  '--',
  'CREATE TABLE `analytics_hourly` (',
  '  `site_id` int(10) unsigned NOT NULL,',
  '  `label` varchar(200) NOT NULL,',
  '  `sketch` varbinary(4096) DEFAULT NULL',
  ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;',
  'INSERT INTO `analytics_hourly` VALUES',
  "(1,'plain',0x00FF27285C29),",
  "(2,'it\\'s',NULL),",
  "(3,'back\\\\slash',0x),",
  "(4,'a),(b','x'),",
  "(5,'((((',0xAB),",
  "(6,'))))',0xCD),",
  "(7,'multi\nline\nvalue;\n(',NULL),",
  "(8,'\\\\\\'),(\\\\',NULL),",
  "(9,'emoji \u{1F600} (',0x29);",
  '--',
  '-- Table structure for table `strata_watermarks`',
  '--',
  'CREATE TABLE `strata_watermarks` (',
  '  `level` varchar(16) NOT NULL,',
  '  `through` datetime NOT NULL,',
  '  `token` bigint(20) NOT NULL',
  ') ENGINE=InnoDB;',
  'INSERT INTO `strata_watermarks` VALUES',
  "('hourly','2026-11-30 05:00:00',3),",
  "('da\\'ily','2026-11-29 00:00:00',3);",
  '--',
  '-- Table structure for table `analytics_daily`',
  '--',
  "INSERT INTO `analytics_daily` VALUES (1,'x;y',0x3B),(2,'(',NULL),(3,'\\\\',0x28);",
  "INSERT INTO `analytics_daily` VALUES (4,'',NULL);",
  '-- Dump completed on 2026-12-01  5:00:01',
  '',
].join('\n');

const EXPECTED_ROWS = [
  { table: 'analytics_hourly', rows: 9 },
  { table: 'strata_watermarks', rows: 2 },
  { table: 'analytics_daily', rows: 4 },
];

function scanInChunks(dump: Uint8Array, size: number, capture: ReadonlySet<string> = new Set(['strata_watermarks'])): { scan: DumpScan; scanner: DumpScanner } {
  const scanner = new DumpScanner(capture);
  for (let start = 0; start < dump.length; start += size) scanner.write(dump.subarray(start, start + size));
  return { scan: scanner.end(), scanner };
}

/** Every table captured sends every byte through the byte-at-a-time state machine: the reference for the counts. */
function referenceScan(dump: Uint8Array, tables: string[]): DumpScan {
  return scanInChunks(dump, dump.length, new Set(tables)).scan;
}

/** A generated dump with values the bench and real traffic write, plus strings full of the grammar's bytes. */
function generatedDump(seed: number, tables: number, rowsPerTable: number, oneLinePerTuple: boolean): string {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const tricky = ["'", '\\', '(', ')', ',', ';', '),(', '\n', 'x', 'é', '0x'];
  const text = () => {
    let value = '';
    const parts = Math.floor(random() * 6);
    for (let part = 0; part < parts; part += 1) {
      const piece = tricky[Math.floor(random() * tricky.length)]!;
      value += piece === "'" ? "\\'" : piece === '\\' ? '\\\\' : piece === '\n' ? (random() < 0.5 ? '\\n' : '\n') : piece;
    }
    return `'${value}'`;
  };
  const hex = () => `0x${Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256).toString(16).padStart(2, '0').toUpperCase()).join('')}`;
  const lines: string[] = ["-- CHANGE MASTER TO MASTER_LOG_FILE='bin.000001', MASTER_LOG_POS=99;"];
  for (let table = 0; table < tables; table += 1) {
    lines.push(`-- Table structure for table \`t${table}\``, `CREATE TABLE \`t${table}\` (`, '  `id` int NOT NULL,', '  `v` text', ');');
    let remaining = rowsPerTable;
    while (remaining > 0) {
      const batch = Math.min(remaining, 1 + Math.floor(random() * 7));
      remaining -= batch;
      const tuples = Array.from({ length: batch }, (_, index) => `(${index},${text()},${hex()},${random() < 0.2 ? 'NULL' : text()})`);
      lines.push(oneLinePerTuple ? `INSERT INTO \`t${table}\` VALUES\n${tuples.join(',\n')};` : `INSERT INTO \`t${table}\` VALUES ${tuples.join(',')};`);
    }
  }
  lines.push('-- Dump completed on 2026-12-01', '');
  return lines.join('\n');
}

describe('DumpScanner', () => {
  const dump = Buffer.from(MARIADB_DUMP, 'utf8');

  it('counts every tuple of every table, whatever quotes, escapes, parentheses and newlines its strings hold', () => {
    const { scan, scanner } = scanInChunks(dump, dump.length);
    expect(scan.rows).toEqual(EXPECTED_ROWS);
    expect(scan).toMatchObject({ tablesDone: 3, currentTable: null, completed: true, position: { file: 'shard0-bin.000003', position: 4521, gtid: '0-1-77' } });
    expect(scanner.capturedRows('strata_watermarks')).toEqual([
      { level: 'hourly', through: '2026-11-30 05:00:00', token: '3' },
      { level: "da'ily", through: '2026-11-29 00:00:00', token: '3' },
    ]);
  });

  it('gives the same answer when the stream is cut into chunks of every size, so every token is split somewhere', () => {
    const whole = scanInChunks(dump, dump.length);
    for (let size = 1; size <= dump.length; size += 1) {
      const { scan, scanner } = scanInChunks(dump, size);
      expect(scan, `chunks of ${size} bytes`).toEqual(whole.scan);
      expect(scanner.capturedRows('strata_watermarks')).toEqual(whole.scanner.capturedRows('strata_watermarks'));
    }
  });

  it('counts as the byte-at-a-time state machine does on generated dumps of both INSERT layouts, in any chunking', () => {
    for (const [seed, oneLinePerTuple] of [[1, true], [2, false], [3, true], [4, false]] as const) {
      const generated = Buffer.from(generatedDump(seed, 4, 60, oneLinePerTuple), 'utf8');
      const reference = referenceScan(generated, ['t0', 't1', 't2', 't3']);
      expect(reference.rows).toEqual([0, 1, 2, 3].map((table) => ({ table: `t${table}`, rows: 60 })));
      for (const size of [1, 2, 3, 7, 64, 1000, 65536]) {
        expect(scanInChunks(generated, size, new Set()).scan, `seed ${seed}, chunks of ${size}`).toEqual(reference);
      }
    }
  });

  it('reports the table being dumped and a dump cut short as incomplete', () => {
    const cut = dump.subarray(0, MARIADB_DUMP.indexOf("(4,'',NULL)"));
    const { scan } = scanInChunks(cut, 5);
    expect(scan).toMatchObject({ completed: false, currentTable: 'analytics_daily', tablesDone: 2 });
    expect(scan.rows).toEqual([EXPECTED_ROWS[0], EXPECTED_ROWS[1], { table: 'analytics_daily', rows: 3 }]);
  });
});
