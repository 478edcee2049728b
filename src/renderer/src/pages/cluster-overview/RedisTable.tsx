import { Paper, Table, Text } from '@mantine/core';
import type { RedisStatus } from '../../../../shared/contract';
import { formatBytes, formatLatency } from '../../format';
import { ProblemLine } from '../../components/ProblemLine';
import { StatusBadge } from './StatusBadge';

export function RedisTable({ redis }: { redis: RedisStatus }) {
  return (
    <Paper withBorder radius="md" data-testid="redis-table">
      <Table.ScrollContainer minWidth={880} type="native">
        <Table verticalSpacing={8} horizontalSpacing="md" fz="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Service</Table.Th>
              <Table.Th>Address</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Server</Table.Th>
              <Table.Th ta="right">Round trip</Table.Th>
              <Table.Th>TLS</Table.Th>
              <Table.Th ta="right">Memory used</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            <Table.Tr data-testid="redis-row" bg={redis.reachable ? undefined : 'var(--mantine-color-red-light)'}>
              <Table.Td fw={600}>Redis</Table.Td>
              <Table.Td ff="monospace" c="dimmed">
                {redis.url}
              </Table.Td>
              <Table.Td>
                <StatusBadge up={redis.reachable} testId="redis-status" />
              </Table.Td>
              {redis.reachable ? (
                <>
                  <Table.Td>
                    <Text size="sm" span>
                      {redis.serverVersion ? `Redis ${redis.serverVersion}` : '—'}
                    </Text>
                  </Table.Td>
                  <Table.Td ta="right" ff="monospace">
                    {formatLatency(redis.latencyMs)}
                  </Table.Td>
                  <Table.Td data-testid="redis-tls">
                    <Text size="sm" span c={redis.tls ? undefined : 'dimmed'}>
                      {redis.tls ?? 'no TLS'}
                    </Text>
                  </Table.Td>
                  <Table.Td ta="right" ff="monospace">
                    {redis.usedMemoryBytes === undefined ? '—' : formatBytes(redis.usedMemoryBytes)}
                  </Table.Td>
                </>
              ) : (
                <Table.Td colSpan={4}>
                  <ProblemLine problem={redis.problem} testId="redis-problem" />
                </Table.Td>
              )}
            </Table.Tr>
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Paper>
  );
}
