import { Badge, Paper, Table, Text, Tooltip } from '@mantine/core';
import { TABLE_NAMES, type ShardStatus } from '../../../../shared/contract';
import { formatLatency, formatRowEstimate } from '../../format';
import { ProblemLine } from '../../components/ProblemLine';
import { shortServerVersion } from './server-version';
import { StatusBadge } from './StatusBadge';

const DETAIL_COLUMNS = 4 + TABLE_NAMES.length;
const numeric = { ta: 'right', ff: 'monospace' } as const;

function rowsOf(shard: ShardStatus, table: string): number | undefined {
  return shard.tables.find((estimate) => estimate.table === table)?.estimatedRows;
}

function ShardRow({ shard }: { shard: ShardStatus }) {
  return (
    <Table.Tr data-testid={`shard-row-${shard.index}`} data-shard={shard.name} bg={shard.reachable ? undefined : 'var(--mantine-color-red-light)'}>
      <Table.Td fw={600}>{shard.name}</Table.Td>
      <Table.Td ff="monospace" c="dimmed">
        {shard.host}:{shard.port}/{shard.database}
      </Table.Td>
      <Table.Td>
        <StatusBadge up={shard.reachable} testId={`shard-status-${shard.index}`} />
      </Table.Td>
      {shard.reachable ? (
        <>
          <Table.Td>
            <Tooltip label={shard.serverVersion ?? 'unknown'} openDelay={400}>
              <Text size="sm" span>
                {shortServerVersion(shard.serverVersion)}
              </Text>
            </Tooltip>
          </Table.Td>
          <Table.Td {...numeric}>{formatLatency(shard.latencyMs)}</Table.Td>
          <Table.Td data-testid={`shard-tls-${shard.index}`}>
            <Text size="sm" span c={shard.tls ? undefined : 'dimmed'}>
              {shard.tls ?? 'no TLS'}
            </Text>
          </Table.Td>
          <Table.Td ta="center">
            {shard.schemaVersion === undefined ? (
              <Badge color="orange" variant="light" tt="none" radius="sm">
                not applied
              </Badge>
            ) : (
              <Text size="sm" ff="monospace" span>
                v{shard.schemaVersion}
              </Text>
            )}
          </Table.Td>
          {TABLE_NAMES.map((table) => {
            const rows = rowsOf(shard, table);
            return (
              <Table.Td key={table} {...numeric}>
                {rows === undefined ? '—' : <Tooltip label={`${rows.toLocaleString('en-US')} rows (estimate)`}>{<span>{formatRowEstimate(rows)}</span>}</Tooltip>}
              </Table.Td>
            );
          })}
        </>
      ) : (
        <Table.Td colSpan={DETAIL_COLUMNS}>
          <ProblemLine problem={shard.problem} testId={`shard-problem-${shard.index}`} />
        </Table.Td>
      )}
    </Table.Tr>
  );
}

/** One row per shard; a shard that is down shows its reason across the columns it cannot fill. */
export function ShardTable({ shards }: { shards: readonly ShardStatus[] }) {
  return (
    <Paper withBorder radius="md" data-testid="shard-table">
      <Table.ScrollContainer minWidth={1160} type="native">
        <Table verticalSpacing={8} horizontalSpacing="md" highlightOnHover fz="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th colSpan={7} />
              <Table.Th colSpan={TABLE_NAMES.length} ta="center" c="dimmed" fz="xs" tt="uppercase" style={{ borderBottom: '1px solid var(--table-border-color)' }}>
                Estimated rows
              </Table.Th>
            </Table.Tr>
            <Table.Tr>
              <Table.Th>Shard</Table.Th>
              <Table.Th>Address</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Server</Table.Th>
              <Table.Th ta="right">Round trip</Table.Th>
              <Table.Th>TLS</Table.Th>
              <Table.Th ta="center">Schema</Table.Th>
              {TABLE_NAMES.map((table) => (
                <Table.Th key={table} ta="right">
                  {table.replace(/^analytics_/, '')}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {shards.map((shard) => (
              <ShardRow key={shard.index} shard={shard} />
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Paper>
  );
}
