import { Table, Text } from '@mantine/core';
import type { MaintenanceRun } from '../../../../shared/retention';
import type { ConsoleState } from '../../colours';
import { columnsOf, RecordTable } from '../../components/RecordTable';
import { StateBadge } from '../../components/StateBadge';
import { formatCount, formatDuration, formatUtc } from '../../format';

const RUN_COLUMNS = columnsOf(['Started (UTC)', 'Job', 'Shard', 'Table', 'Outcome', 'Rows removed', 'Duration', 'Trigger', 'Host', 'Detail'], ['Rows removed', 'Duration']);

/** The latest prune and partition maintenance runs on any host, newest first, one line per shard and table. */
export function RunsTable({ runs }: { runs: readonly MaintenanceRun[] }) {
  if (runs.length === 0) return <Text size="sm" c="dimmed" data-testid="runs-empty">No prune has run yet.</Text>;
  return (
    <RecordTable testId="maintenance-runs" minWidth={1100} columns={RUN_COLUMNS}>
      {runs.map((run) => (
        <Table.Tr key={run.id} data-testid="maintenance-run" data-run-id={run.runId ?? ''} data-shard={run.shard} data-table={run.table ?? ''} data-outcome={run.outcome} data-rows-removed={run.rowsRemoved}>
          <Table.Td ff="monospace" style={{ whiteSpace: 'nowrap' }}>
            {formatUtc(run.startedAt, 'second')}
          </Table.Td>
          <Table.Td ff="monospace">{run.job}</Table.Td>
          <Table.Td>{run.shardName}</Table.Td>
          <Table.Td ff="monospace">{run.table ?? 'whole shard'}</Table.Td>
          <Table.Td>
            {/* Outcomes are plain strings in the history (partition maintenance writes its own); unknown ones are grey. */}
            <StateBadge state={run.outcome as ConsoleState} variant={run.outcome === 'ok' ? 'light' : 'filled'} miw={72} />
          </Table.Td>
          <Table.Td ta="right" ff="monospace">
            {formatCount(run.rowsRemoved)}
          </Table.Td>
          <Table.Td ta="right" ff="monospace">
            {run.durationMs === null ? 'running' : formatDuration(run.durationMs)}
          </Table.Td>
          <Table.Td>{run.trigger}</Table.Td>
          <Table.Td>{run.host}</Table.Td>
          <Table.Td maw={420}>
            <Text size="xs" c="dimmed">
              {run.detail}
            </Text>
            {run.error && (
              <Text size="xs" c="red.4">
                {run.error}
              </Text>
            )}
          </Table.Td>
        </Table.Tr>
      ))}
    </RecordTable>
  );
}
