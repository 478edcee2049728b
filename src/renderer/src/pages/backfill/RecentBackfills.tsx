import { Button, Group, Paper, Stack, Table, Text } from '@mantine/core';
import { CANCELLABLE_STATES, RESUMABLE_STATES, type BackfillRecord } from '../../../../shared/backfill';
import { formatCount, formatUtc } from '../../format';
import { LevelBadge } from '../jobs/LevelBadge';
import { StateBadge } from '../../components/StateBadge';

interface RecentBackfillsProps {
  records: BackfillRecord[];
  onResume(id: number): void;
  resuming: number | undefined;
  onCancel(id: number): void;
  cancelling: number | undefined;
}

/**
 * Recent backfills, newest first; interrupted, cancelled and failed ones can be resumed from their next window, and
 * running ones cancelled wherever they run (the CLI on another host included).
 */
export function RecentBackfills({ records, onResume, resuming, onCancel, cancelling }: RecentBackfillsProps) {
  if (records.length === 0) return <Text size="sm" c="dimmed">No backfills yet.</Text>;
  return (
    <Paper withBorder radius="md">
      {/* No minimum width: the range and the error wrap, so the table fits a 1440 px window without scrolling sideways. */}
      <Table fz="sm" verticalSpacing={6} horizontalSpacing="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>ID</Table.Th>
            <Table.Th>State</Table.Th>
            <Table.Th>Level</Table.Th>
            <Table.Th>Range (UTC)</Table.Th>
            <Table.Th>Shards</Table.Th>
            <Table.Th ta="right">Windows</Table.Th>
            <Table.Th ta="right" style={{ whiteSpace: 'nowrap' }}>
              Rows read
            </Table.Th>
            <Table.Th style={{ whiteSpace: 'nowrap' }}>Started by · on</Table.Th>
            <Table.Th>Updated</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {records.map((record) => (
            <Table.Tr key={record.id} data-testid="backfill-row" data-id={record.id} data-state={record.state}>
              <Table.Td ff="monospace">{record.id}</Table.Td>
              <Table.Td>
                <StateBadge state={record.state} miw={92} />
              </Table.Td>
              <Table.Td>
                <Stack gap={2} align="flex-start">
                  <LevelBadge level={record.level} />
                  {record.cascade && (
                    <Text size="xs" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
                      + cascade
                    </Text>
                  )}
                </Stack>
              </Table.Td>
              <Table.Td ff="monospace" style={{ whiteSpace: 'nowrap' }}>
                {formatUtc(record.from)} –
                <br />
                {formatUtc(record.to)}
              </Table.Td>
              <Table.Td ff="monospace">{record.shards.join(',')}</Table.Td>
              <Table.Td ta="right" ff="monospace" style={{ whiteSpace: 'nowrap' }}>
                {record.windowsDone} / {record.windowsTotal}
              </Table.Td>
              <Table.Td ta="right" ff="monospace">
                {formatCount(record.rowsRead)}
              </Table.Td>
              <Table.Td style={{ overflowWrap: 'anywhere' }}>
                <Text size="sm">{record.createdBy}</Text>
                <Text size="xs" c="dimmed">
                  {record.host} · pid {record.pid}
                </Text>
              </Table.Td>
              <Table.Td ff="monospace" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
                {formatUtc(record.updatedAt, 'second')}
                {record.error && (
                  <Text size="xs" c={record.state === 'failed' ? 'red.4' : 'dimmed'} ff="sans-serif" maw={260} style={{ whiteSpace: 'normal' }}>
                    {record.error}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <Group gap={6} wrap="nowrap">
                  {RESUMABLE_STATES.includes(record.state) && (
                    <Button size="xs" variant="light" loading={resuming === record.id} onClick={() => onResume(record.id)} data-testid={`backfill-resume-${record.id}`}>
                      Resume
                    </Button>
                  )}
                  {CANCELLABLE_STATES.includes(record.state) && (
                    <Button
                      size="xs"
                      color="red"
                      variant="light"
                      loading={cancelling === record.id || record.state === 'cancelling'}
                      onClick={() => onCancel(record.id)}
                      data-testid={`backfill-cancel-${record.id}`}
                    >
                      Cancel
                    </Button>
                  )}
                </Group>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Paper>
  );
}
