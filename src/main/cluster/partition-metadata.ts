/**
 * The one reader of information_schema.PARTITIONS. Every feature that needs partition bounds, estimates or sizes
 * reads them here, so MySQL 8's and MariaDB's spellings and the meaning of each figure are handled once.
 */

/** Runs one statement on one shard (a pool query or a session's). */
export type MetadataQuery = <T>(sql: string, params?: unknown[]) => Promise<T>;

/** One partition of a table; a table that is not partitioned has one row with `name` null. */
export interface PartitionMetadata {
  table: string;
  name: string | null;
  ordinal: number | null;
  /** `RANGE`, `LIST`, …; null when the table is not partitioned. */
  method: string | null;
  expression: string | null;
  /** The upper bound as written by the server (`739000`, `MAXVALUE`); null when not partitioned. */
  description: string | null;
  /** An estimate: 0 until the server has sampled the partition (ANALYZE TABLE). Count rows when it matters. */
  estimatedRows: number;
  dataBytes: number;
  indexBytes: number;
}

interface Row {
  table_name: string;
  partition_name: string | null;
  ordinal: number | null;
  method: string | null;
  expression: string | null;
  description: string | null;
  table_rows: number | string | null;
  data_bytes: number | string | null;
  index_bytes: number | string | null;
}

/** Every partition of the named tables in the session's database, in each table's partition order. */
export async function readPartitionMetadata(query: MetadataQuery, tables: readonly string[]): Promise<PartitionMetadata[]> {
  if (tables.length === 0) return [];
  const rows = await query<Row[]>(
    `SELECT TABLE_NAME AS table_name, PARTITION_NAME AS partition_name, PARTITION_ORDINAL_POSITION AS ordinal,
            PARTITION_METHOD AS method, PARTITION_EXPRESSION AS expression, PARTITION_DESCRIPTION AS description,
            TABLE_ROWS AS table_rows, DATA_LENGTH AS data_bytes, INDEX_LENGTH AS index_bytes
       FROM information_schema.PARTITIONS
      WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?)
      ORDER BY TABLE_NAME, PARTITION_ORDINAL_POSITION`,
    [tables],
  );
  return rows.map((row) => ({
    table: row.table_name,
    name: row.partition_name,
    ordinal: row.ordinal === null ? null : Number(row.ordinal),
    method: row.method,
    expression: row.expression,
    description: row.description,
    estimatedRows: Number(row.table_rows ?? 0),
    dataBytes: Number(row.data_bytes ?? 0),
    indexBytes: Number(row.index_bytes ?? 0),
  }));
}

/** The partitions of one table, or undefined when the table does not exist. */
export async function readTablePartitions(query: MetadataQuery, table: string): Promise<PartitionMetadata[] | undefined> {
  const rows = await readPartitionMetadata(query, [table]);
  return rows.length === 0 ? undefined : rows;
}

/** True when the table exists and is partitioned. */
export function isPartitioned(partitions: readonly PartitionMetadata[] | undefined): boolean {
  return !!partitions && partitions.some((partition) => partition.name !== null);
}

/** Estimated rows per named partition (see `estimatedRows`); empty for a missing or unpartitioned table. */
export function partitionRowEstimates(partitions: readonly PartitionMetadata[] | undefined): Map<string, number> {
  return new Map((partitions ?? []).flatMap((partition) => (partition.name === null ? [] : [[partition.name, partition.estimatedRows] as const])));
}

/** Rows, data and index bytes of each table, summed over its partitions. */
export function tableTotals(partitions: readonly PartitionMetadata[]): Map<string, { estimatedRows: number; dataBytes: number; indexBytes: number }> {
  const totals = new Map<string, { estimatedRows: number; dataBytes: number; indexBytes: number }>();
  for (const partition of partitions) {
    const total = totals.get(partition.table) ?? { estimatedRows: 0, dataBytes: 0, indexBytes: 0 };
    total.estimatedRows += partition.estimatedRows;
    total.dataBytes += partition.dataBytes;
    total.indexBytes += partition.indexBytes;
    totals.set(partition.table, total);
  }
  return totals;
}
