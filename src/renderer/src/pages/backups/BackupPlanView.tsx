import { Alert, Code, Stack, Table, Text } from '@mantine/core';
import type { BackupPlan } from '../../../../shared/backup';
import { problemText } from '../../api/failure';
import { formatBytes, formatDuration, formatRowEstimate } from '../../format';

/** A dry run in words: per shard the tables and sizes, the estimated time and file, the exact command; the free space. */
export function BackupPlanView({ plan, testId }: { plan: BackupPlan; testId: string }) {
  return (
    <Stack gap="sm" data-testid={testId}>
      <Text size="sm" data-testid={`${testId}-summary`}>
        {plan.shards.length} shard{plan.shards.length === 1 ? '' : 's'}, {plan.parallelism} at a time, into <Code>{plan.dest}</Code> with {plan.compression} ({plan.client.kind}{' '}
        {plan.client.version}): about {formatBytes(plan.estimatedFileBytes)} of files; {formatBytes(plan.freeBytes)} free there.
      </Text>
      {plan.refusal && (
        <Alert color="red" variant="light" title="Not enough room" data-testid={`${testId}-refusal`}>
          {plan.refusal}
        </Alert>
      )}
      <Table fz="sm" verticalSpacing={6} horizontalSpacing="md">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Shard</Table.Th>
            <Table.Th>Tables</Table.Th>
            <Table.Th ta="right">Size</Table.Th>
            <Table.Th ta="right">File</Table.Th>
            <Table.Th ta="right">Time</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {plan.shards.map((shard) => (
            <Table.Tr key={shard.shard} data-testid={`${testId}-shard-${shard.shard}`}>
              <Table.Td fw={600}>{shard.shardName}</Table.Td>
              <Table.Td>
                <Text size="xs" ff="monospace">
                  {shard.tables.map((table) => `${table.table} ~${formatRowEstimate(table.estimatedRows)} rows`).join(' · ')}
                </Text>
                {shard.blockedBy && (
                  <Text size="xs" c="orange.4">
                    waits for: {shard.blockedBy}
                  </Text>
                )}
                {shard.problem && (
                  <Text size="xs" c="red.4">
                    {problemText(shard.problem).line}
                  </Text>
                )}
                <Text size="xs" c="dimmed" ff="monospace" style={{ wordBreak: 'break-all' }} data-testid={`${testId}-command-${shard.shard}`}>
                  {shard.commandLine}
                </Text>
              </Table.Td>
              <Table.Td ta="right">{formatBytes(shard.estimatedBytes)}</Table.Td>
              <Table.Td ta="right">~{formatBytes(shard.estimatedFileBytes)}</Table.Td>
              <Table.Td ta="right" title={shard.rate.note}>
                ~{formatDuration(shard.estimatedSeconds * 1000)}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
