import { describe, expect, it } from 'vitest';
import { findDrift, normaliseColumnType, snapshotFromRows, type ColumnRow, type IndexRow, type PartitioningRow, type TableRow } from '../../src/main/schema/drift';
import { EXPECTED_TABLES } from '../../src/main/schema/expected';
import { MIGRATIONS } from '../../src/main/schema/migrations';

type Rows = { tables: TableRow[]; columns: ColumnRow[]; indexes: IndexRow[]; partitioning: PartitioningRow[] };

const INTEGER_WIDTHS: Record<string, number> = { int: 10, bigint: 20 };

/** information_schema rows for a shard that matches the expected schema, spelled the way each server spells them. */
function rowsAsServerReports(server: 'mariadb' | 'mysql8'): Rows {
  const rows: Rows = { tables: [], columns: [], indexes: [], partitioning: [] };
  for (const table of EXPECTED_TABLES) {
    rows.tables.push({ table_name: table.name, engine: 'InnoDB', table_collation: server === 'mysql8' ? 'utf8mb4_0900_ai_ci' : 'utf8mb4_general_ci' });
    for (const column of table.columns) {
      const type =
        server === 'mariadb' ? column.type.replace(/^(int|bigint) unsigned$/, (_, base: string) => `${base}(${INTEGER_WIDTHS[base]}) unsigned`) : column.type;
      rows.columns.push({ table_name: table.name, column_name: column.name, column_type: type, is_nullable: column.nullable ? 'YES' : 'NO' });
    }
    for (const index of table.indexes) {
      index.columns.forEach((column, position) =>
        rows.indexes.push({ table_name: table.name, index_name: index.name, column_name: column, seq_in_index: position + 1, non_unique: index.unique ? 0 : 1 }),
      );
    }
    if (table.partitioning) {
      const expression = table.partitioning.expression.toLowerCase().replace(/\((\w+)\)/, '(`$1`)');
      rows.partitioning.push({ table_name: table.name, partition_method: 'RANGE', partition_expression: expression });
    }
  }
  return rows;
}

const allApplied = MIGRATIONS.map(({ version, name, checksum }) => ({ version, name, checksum }));

function without<T>(items: T[], unwanted: (item: T) => boolean): T[] {
  return items.filter((item) => !unwanted(item));
}

describe('column type normalisation', () => {
  it('drops integer display widths that MariaDB prints and MySQL 8 does not', () => {
    expect(normaliseColumnType('int(10) unsigned')).toBe('int unsigned');
    expect(normaliseColumnType('BIGINT(20) UNSIGNED')).toBe('bigint unsigned');
    expect(normaliseColumnType('tinyint(1)')).toBe('tinyint');
  });

  it('keeps lengths and precisions that change what a column holds', () => {
    expect(normaliseColumnType('varchar(512)')).toBe('varchar(512)');
    expect(normaliseColumnType('datetime(3)')).toBe('datetime(3)');
    expect(normaliseColumnType('decimal(10,2)')).toBe('decimal(10,2)');
  });
});

describe('drift check', () => {
  it('finds nothing on a correct MariaDB 10.11 shard or a correct MySQL 8 shard', () => {
    expect(findDrift(snapshotFromRows(rowsAsServerReports('mariadb'), allApplied), EXPECTED_TABLES, MIGRATIONS)).toEqual([]);
    expect(findDrift(snapshotFromRows(rowsAsServerReports('mysql8'), allApplied), EXPECTED_TABLES, MIGRATIONS)).toEqual([]);
  });

  it('reports a dropped index, an added column, a changed type and lost partitioning, each naming its table', () => {
    const rows = rowsAsServerReports('mysql8');
    rows.indexes = without(rows.indexes, (row) => row.index_name === 'idx_site_created');
    rows.columns.push({ table_name: 'analytics_daily', column_name: 'note', column_type: 'text', is_nullable: 'YES' });
    rows.columns = rows.columns.map((row) => (row.table_name === 'strata_audit_log' && row.column_name === 'actor' ? { ...row, column_type: 'varchar(100)' } : row));
    rows.partitioning = without(rows.partitioning, (row) => row.table_name === 'analytics_monthly');
    const drift = findDrift(snapshotFromRows(rows, allApplied), EXPECTED_TABLES, MIGRATIONS);
    expect(drift.map(({ kind, table, subject }) => ({ kind, table, subject }))).toEqual([
      { kind: 'index-missing', table: 'analytics_realtime', subject: 'idx_site_created' },
      { kind: 'column-extra', table: 'analytics_daily', subject: 'note' },
      { kind: 'not-partitioned', table: 'analytics_monthly', subject: undefined },
      { kind: 'column-type', table: 'strata_audit_log', subject: 'actor' },
    ]);
    expect(drift[3]?.message).toBe('strata_audit_log: column actor is varchar(100), expected varchar(255)');
  });

  it('reports a table partitioned by the wrong expression, a changed primary key and a non-InnoDB table', () => {
    const rows = rowsAsServerReports('mariadb');
    rows.partitioning = rows.partitioning.map((row) => (row.table_name === 'analytics_realtime' ? { ...row, partition_expression: 'to_days(`created_at`)' } : row));
    rows.indexes = without(rows.indexes, (row) => row.table_name === 'analytics_hourly' && row.column_name === 'hour_start');
    rows.tables = rows.tables.map((row) => (row.table_name === 'strata_watermarks' ? { ...row, engine: 'MyISAM' } : row));
    const drift = findDrift(snapshotFromRows(rows, allApplied), EXPECTED_TABLES, MIGRATIONS);
    expect(drift.map((item) => item.message)).toEqual([
      'analytics_realtime: is partitioned by RANGE (to_days(`created_at`)), expected RANGE (UNIX_TIMESTAMP(created_at))',
      'analytics_hourly: primary key is UNIQUE (site_id), expected UNIQUE (site_id, hour_start)',
      'strata_watermarks: is MyISAM utf8mb4_general_ci, expected InnoDB with utf8mb4',
    ]);
  });

  it('leaves an index a DBA added alone', () => {
    const rows = rowsAsServerReports('mariadb');
    rows.indexes.push({ table_name: 'analytics_daily', index_name: 'idx_report', column_name: 'visitors', seq_in_index: 1, non_unique: 1 });
    expect(findDrift(snapshotFromRows(rows, allApplied), EXPECTED_TABLES, MIGRATIONS)).toEqual([]);
  });

  it('reports a shard where nothing was ever applied as missing migrations and missing tables', () => {
    const empty = snapshotFromRows({ tables: [], columns: [], indexes: [], partitioning: [] }, undefined);
    const drift = findDrift(empty, EXPECTED_TABLES, MIGRATIONS);
    expect(drift[0]).toMatchObject({ kind: 'migration-missing', subject: '1', message: 'migration 1 (initial tables) has not been applied' });
    expect(drift.filter((item) => item.kind === 'table-missing').map((item) => item.table)).toEqual(EXPECTED_TABLES.map((table) => table.name));
  });

  it('reports edited and unknown migration records', () => {
    const records = [{ ...allApplied[0]!, checksum: 'f'.repeat(64) }, ...allApplied.slice(1), { version: 99, name: 'from the future', checksum: 'a'.repeat(64) }];
    const drift = findDrift(snapshotFromRows(rowsAsServerReports('mariadb'), records), EXPECTED_TABLES, MIGRATIONS);
    expect(drift.map(({ kind, subject }) => ({ kind, subject }))).toEqual([
      { kind: 'checksum-mismatch', subject: '1' },
      { kind: 'migration-unknown', subject: '99' },
    ]);
  });
});
