import { Paper, ScrollArea, Table, Text } from '@mantine/core';
import { useEffect, useRef } from 'react';
import type { PartitionInfo, ShardPartitions } from '../../../../shared/partitions';
import { formatBytes, formatCount, formatRowEstimate, formatUtc } from '../../format';
import { partitionBytes, shortTable } from './partition-view';

const numeric = { ta: 'right', ff: 'monospace' } as const;

export interface PickedPartition {
  shard: number;
  table: string;
  partition: string;
}

interface Row {
  shard: ShardPartitions;
  table: string;
  partition: PartitionInfo;
}

/** Every partition of the chosen shards and tables, oldest first; the one picked on the timeline is scrolled to. */
export function PartitionTable({ shards, tables, exact, picked }: { shards: readonly ShardPartitions[]; tables: readonly string[]; exact: boolean; picked: PickedPartition | undefined }) {
  const rows: Row[] = shards.flatMap((shard) =>
    shard.tables.filter((entry) => tables.includes(entry.table)).flatMap((entry) => entry.partitions.map((partition) => ({ shard, table: entry.table, partition }))),
  );
  // A raw table has hundreds of partitions: the one clicked on the timeline is brought into view.
  const pickedRow = useRef<HTMLTableRowElement>(null);
  useEffect(() => pickedRow.current?.scrollIntoView({ block: 'center' }), [picked]);
  if (rows.length === 0) return <Text size="sm" c="dimmed">No partitions to show: the shards chosen are unreachable or the tables are not partitioned.</Text>;
  const isPicked = (row: Row) => picked?.shard === row.shard.index && picked.table === row.table && picked.partition === row.partition.name;
  return (
    <Paper withBorder radius="md" data-testid="partition-table" data-rows={rows.length}>
      <ScrollArea.Autosize mah={440} type="auto">
        <Table fz="sm" verticalSpacing={4} horizontalSpacing="md" stickyHeader highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Shard</Table.Th>
              <Table.Th>Table</Table.Th>
              <Table.Th>Partition</Table.Th>
              <Table.Th>From (UTC)</Table.Th>
              <Table.Th>To (UTC, exclusive)</Table.Th>
              <Table.Th ta="right">{exact ? 'Rows (exact)' : 'Rows (estimate)'}</Table.Th>
              <Table.Th ta="right">Data</Table.Th>
              <Table.Th ta="right">Index</Table.Th>
              <Table.Th ta="right">Size</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((row) => {
              const { partition } = row;
              const catchAllRows = partition.to === null && partition.rows > 0;
              return (
                <Table.Tr
                  key={`${row.shard.index}-${row.table}-${partition.name}`}
                  ref={isPicked(row) ? pickedRow : undefined}
                  bg={catchAllRows ? 'var(--mantine-color-red-light)' : isPicked(row) ? 'var(--mantine-color-blue-light)' : undefined}
                  data-testid="partition-row"
                  data-shard={row.shard.index}
                  data-table={row.table}
                  data-partition={partition.name}
                  data-rows={partition.rows}
                >
                  <Table.Td>{row.shard.name}</Table.Td>
                  <Table.Td ff="monospace">{shortTable(row.table)}</Table.Td>
                  <Table.Td ff="monospace" fw={600}>
                    {partition.name}
                  </Table.Td>
                  <Table.Td ff="monospace" c={partition.from === null ? 'dimmed' : undefined}>
                    {partition.from === null ? 'anything earlier' : formatUtc(partition.from)}
                  </Table.Td>
                  <Table.Td ff="monospace" c={partition.to === null ? (catchAllRows ? 'red.4' : 'dimmed') : undefined}>
                    {partition.to === null ? 'MAXVALUE (catch-all)' : formatUtc(partition.to)}
                  </Table.Td>
                  <Table.Td {...numeric} c={catchAllRows ? 'red.4' : undefined} fw={catchAllRows ? 700 : undefined} data-testid="partition-rows">
                    {exact ? formatCount(partition.rows) : formatRowEstimate(partition.rows)}
                  </Table.Td>
                  <Table.Td {...numeric}>{formatBytes(partition.dataBytes)}</Table.Td>
                  <Table.Td {...numeric}>{formatBytes(partition.indexBytes)}</Table.Td>
                  <Table.Td {...numeric}>{formatBytes(partitionBytes(partition))}</Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </ScrollArea.Autosize>
    </Paper>
  );
}
