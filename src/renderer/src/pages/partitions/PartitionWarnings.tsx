import { Alert, Badge, Button, Group, Stack, Text } from '@mantine/core';
import type { PartitionListReport } from '../../../../shared/partitions';
import { ProblemLine } from '../../components/ProblemLine';
import { WARNING_COLOUR, WARNING_WORDS } from './partition-view';

/**
 * Shards that did not answer, then every warning of every shard and table, whatever the filters show: rows in a
 * catch-all or a short runway of future partitions need attention even when nobody is looking at that table.
 */
export function PartitionWarnings({ report, onConvert, converting }: { report: PartitionListReport; onConvert(shard: number, table: string): void; converting: boolean }) {
  const down = report.shards.filter((shard) => !shard.reachable);
  const warnings = report.shards.flatMap((shard) => shard.tables.flatMap((table) => table.warnings.map((warning) => ({ shard, warning }))));
  const serious = warnings.some(({ warning }) => WARNING_COLOUR[warning.kind] === 'red');
  return (
    <Stack gap="sm">
      {down.map((shard) => (
        <Alert key={shard.index} color="red" variant="filled" radius="md" title={`${shard.name} unreachable: its partitions cannot be read`} data-testid={`partition-shard-down-${shard.index}`}>
          <ProblemLine problem={shard.problem} color="white" testId="shard-down-problem" />
        </Alert>
      ))}
      {warnings.length > 0 && (
        <Alert
          color={serious ? 'red' : 'orange'}
          variant="light"
          radius="md"
          title={`${warnings.length} partition warning${warnings.length === 1 ? '' : 's'}`}
          data-testid="partition-warnings"
          data-count={warnings.length}
        >
          <Stack gap={6}>
            {warnings.map(({ shard, warning }) => (
              <Group key={`${shard.index}-${warning.table}-${warning.kind}`} gap="sm" wrap="nowrap" align="flex-start" data-testid="partition-warning" data-shard={shard.index} data-table={warning.table} data-kind={warning.kind}>
                <Badge variant="outline" color="gray" tt="none" radius="sm" miw={64} style={{ flexShrink: 0 }}>
                  {shard.name}
                </Badge>
                <Badge color={WARNING_COLOUR[warning.kind]} variant="filled" tt="none" radius="sm" miw={170} style={{ flexShrink: 0 }}>
                  {WARNING_WORDS[warning.kind]}
                </Badge>
                <Text size="sm" data-testid="warning-message">
                  {warning.message}
                </Text>
                {warning.kind === 'not-partitioned' && (
                  <Button size="compact-sm" variant="light" color="orange" ml="auto" style={{ flexShrink: 0 }} disabled={converting} onClick={() => onConvert(shard.index, warning.table)} data-testid={`convert-${shard.index}-${warning.table}`}>
                    Convert…
                  </Button>
                )}
              </Group>
            ))}
          </Stack>
        </Alert>
      )}
    </Stack>
  );
}
