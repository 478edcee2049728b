import type { SchemaDrift } from '../../shared/contract';
import type { ExpectedTable } from './expected';
import type { Migration } from './migrations';
import type { AppliedMigration } from './planner';

/** information_schema rows, with lower-case aliases so MySQL 8 and MariaDB answer alike. */
export interface TableRow {
  table_name: string;
  engine: string | null;
  table_collation: string | null;
}
export interface ColumnRow {
  table_name: string;
  column_name: string;
  column_type: string;
  is_nullable: string;
}
export interface IndexRow {
  table_name: string;
  index_name: string;
  /** Null for a MySQL 8 functional index part. */
  column_name: string | null;
  seq_in_index: number | string;
  non_unique: number | string;
}
export interface PartitioningRow {
  table_name: string;
  partition_method: string | null;
  partition_expression: string | null;
}

export interface ActualTable {
  name: string;
  engine: string;
  collation: string;
  columns: Array<{ name: string; type: string; nullable: boolean }>;
  indexes: Array<{ name: string; columns: string[]; unique: boolean }>;
  partitioning?: { method: string; expression: string };
}

/** What one shard has, read from information_schema and the migration records. */
export interface ShardSchemaSnapshot {
  tables: ActualTable[];
  /** Undefined when strata_schema_migrations does not exist at all. */
  migrations?: AppliedMigration[];
}

const INTEGER_DISPLAY_WIDTH = /\b(tinyint|smallint|mediumint|int|integer|bigint)\(\d+\)/g;

/**
 * A column type in one spelling for every server: MariaDB and MySQL 5.7 print integer display widths
 * (`int(10) unsigned`) that MySQL 8 dropped (`int unsigned`); widths never change what a column holds.
 */
export function normaliseColumnType(type: string): string {
  return type
    .toLowerCase()
    .replace(INTEGER_DISPLAY_WIDTH, '$1')
    .replace(/\binteger\b/g, 'int')
    .replace(/\s+/g, ' ')
    .trim();
}

/** `UNIX_TIMESTAMP(created_at)` and the server's `unix_timestamp(\`created_at\`)` compare equal. */
export function normaliseExpression(expression: string): string {
  return expression.toLowerCase().replace(/[`\s]/g, '');
}

/** Groups information_schema rows into tables; only tables present in `tables` are kept. */
export function snapshotFromRows(
  rows: { tables: TableRow[]; columns: ColumnRow[]; indexes: IndexRow[]; partitioning: PartitioningRow[] },
  migrations: AppliedMigration[] | undefined,
): ShardSchemaSnapshot {
  const tables = rows.tables.map((table): ActualTable => {
    const name = table.table_name;
    const indexRows = rows.indexes
      .filter((row) => row.table_name === name)
      .sort((a, b) => Number(a.seq_in_index) - Number(b.seq_in_index));
    const indexes = new Map<string, { name: string; columns: string[]; unique: boolean }>();
    for (const row of indexRows) {
      const index = indexes.get(row.index_name) ?? { name: row.index_name, columns: [], unique: Number(row.non_unique) === 0 };
      index.columns.push(row.column_name ?? '(expression)');
      indexes.set(row.index_name, index);
    }
    const partitioning = rows.partitioning.find((row) => row.table_name === name && row.partition_method);
    return {
      name,
      engine: table.engine ?? '',
      collation: table.table_collation ?? '',
      columns: rows.columns
        .filter((row) => row.table_name === name)
        .map((row) => ({ name: row.column_name, type: String(row.column_type), nullable: row.is_nullable === 'YES' })),
      indexes: [...indexes.values()],
      partitioning: partitioning ? { method: partitioning.partition_method ?? '', expression: partitioning.partition_expression ?? '' } : undefined,
    };
  });
  return { tables, migrations };
}

function migrationDrift(known: readonly Migration[], applied: AppliedMigration[] | undefined): SchemaDrift[] {
  const records = new Map((applied ?? []).map((record) => [record.version, record]));
  const drift: SchemaDrift[] = [];
  for (const migration of known) {
    const record = records.get(migration.version);
    const subject = String(migration.version);
    if (!record) {
      drift.push({ kind: 'migration-missing', subject, message: `migration ${migration.version} (${migration.name}) has not been applied` });
    } else if (record.checksum !== migration.checksum) {
      drift.push({
        kind: 'checksum-mismatch',
        subject,
        expected: migration.checksum,
        actual: record.checksum,
        message: `migration ${migration.version} (${migration.name}) was applied from different SQL (checksum ${record.checksum.slice(0, 12)}…, expected ${migration.checksum.slice(0, 12)}…)`,
      });
    }
  }
  const knownVersions = new Set(known.map((migration) => migration.version));
  for (const record of records.values()) {
    if (!knownVersions.has(record.version)) {
      drift.push({
        kind: 'migration-unknown',
        subject: String(record.version),
        message: `migration ${record.version} (${record.name}) is recorded but unknown to this version of Strata`,
      });
    }
  }
  return drift;
}

function tableDrift(expected: ExpectedTable, actual: ActualTable): SchemaDrift[] {
  const table = expected.name;
  const drift: SchemaDrift[] = [];
  const options = `${actual.engine} ${actual.collation}`;
  if (actual.engine.toLowerCase() !== 'innodb' || !actual.collation.toLowerCase().startsWith('utf8mb4_')) {
    drift.push({ kind: 'table-options', table, expected: 'InnoDB utf8mb4', actual: options, message: `${table}: is ${options}, expected InnoDB with utf8mb4` });
  }

  const actualColumns = new Map(actual.columns.map((column) => [column.name.toLowerCase(), column]));
  for (const column of expected.columns) {
    const found = actualColumns.get(column.name.toLowerCase());
    const subject = column.name;
    if (!found) {
      drift.push({ kind: 'column-missing', table, subject, expected: column.type, message: `${table}: column ${column.name} is missing` });
      continue;
    }
    const actualType = normaliseColumnType(found.type);
    const expectedType = normaliseColumnType(column.type);
    if (actualType !== expectedType) {
      drift.push({ kind: 'column-type', table, subject, expected: expectedType, actual: actualType, message: `${table}: column ${column.name} is ${actualType}, expected ${expectedType}` });
    }
    if (found.nullable !== column.nullable) {
      const describe = (nullable: boolean) => (nullable ? 'NULL' : 'NOT NULL');
      drift.push({
        kind: 'column-nullability',
        table,
        subject,
        expected: describe(column.nullable),
        actual: describe(found.nullable),
        message: `${table}: column ${column.name} is ${describe(found.nullable)}, expected ${describe(column.nullable)}`,
      });
    }
  }
  const expectedColumnNames = new Set(expected.columns.map((column) => column.name.toLowerCase()));
  for (const column of actual.columns) {
    if (!expectedColumnNames.has(column.name.toLowerCase())) {
      const type = normaliseColumnType(column.type);
      drift.push({ kind: 'column-extra', table, subject: column.name, actual: type, message: `${table}: extra column ${column.name} (${type})` });
    }
  }

  // Extra indexes are left alone: a DBA may add one for a report without breaking anything Strata does.
  const actualIndexes = new Map(actual.indexes.map((index) => [index.name.toLowerCase(), index]));
  const describeIndex = (index: { columns: string[]; unique: boolean }) => `${index.unique ? 'UNIQUE ' : ''}(${index.columns.join(', ')})`;
  for (const index of expected.indexes) {
    const found = actualIndexes.get(index.name.toLowerCase());
    const label = index.name === 'PRIMARY' ? 'primary key' : `index ${index.name}`;
    if (!found) {
      drift.push({ kind: 'index-missing', table, subject: index.name, expected: describeIndex(index), message: `${table}: ${label} ${describeIndex(index)} is missing` });
      continue;
    }
    const sameColumns = found.columns.map((name) => name.toLowerCase()).join(',') === index.columns.map((name) => name.toLowerCase()).join(',');
    if (!sameColumns || found.unique !== index.unique) {
      drift.push({
        kind: 'index-different',
        table,
        subject: index.name,
        expected: describeIndex(index),
        actual: describeIndex(found),
        message: `${table}: ${label} is ${describeIndex(found)}, expected ${describeIndex(index)}`,
      });
    }
  }

  const wanted = expected.partitioning;
  const have = actual.partitioning;
  const describePartitioning = (partitioning: { method: string; expression: string }) => `${partitioning.method} (${partitioning.expression})`;
  if (wanted && !have) {
    drift.push({ kind: 'not-partitioned', table, expected: describePartitioning(wanted), message: `${table}: is not partitioned, expected ${describePartitioning(wanted)}` });
  } else if (!wanted && have) {
    drift.push({ kind: 'partitioning-different', table, actual: describePartitioning(have), message: `${table}: is partitioned by ${describePartitioning(have)}, expected no partitioning` });
  } else if (wanted && have) {
    const sameMethod = have.method.toUpperCase() === wanted.method;
    if (!sameMethod || normaliseExpression(have.expression) !== normaliseExpression(wanted.expression)) {
      drift.push({
        kind: 'partitioning-different',
        table,
        expected: describePartitioning(wanted),
        actual: describePartitioning(have),
        message: `${table}: is partitioned by ${describePartitioning(have)}, expected ${describePartitioning(wanted)}`,
      });
    }
  }
  return drift;
}

/** Every difference between one shard and the expected schema and migration history; empty when clean. */
export function findDrift(snapshot: ShardSchemaSnapshot, expectedTables: readonly ExpectedTable[], known: readonly Migration[]): SchemaDrift[] {
  const drift = migrationDrift(known, snapshot.migrations);
  const actualTables = new Map(snapshot.tables.map((table) => [table.name.toLowerCase(), table]));
  for (const expected of expectedTables) {
    const actual = actualTables.get(expected.name.toLowerCase());
    if (actual) drift.push(...tableDrift(expected, actual));
    else drift.push({ kind: 'table-missing', table: expected.name, message: `${expected.name}: table is missing` });
  }
  return drift;
}
