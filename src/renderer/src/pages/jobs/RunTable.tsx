import { Badge, Paper, ScrollArea, Table, Text, Tooltip } from '@mantine/core';
import { Fragment } from 'react';
import type { RunOutcome, RunRecord } from '../../../../shared/rollup';
import { StateBadge, UNCLIPPED_BADGE } from '../../components/StateBadge';
import { formatCount, formatDuration, formatUtc, formatWindow } from '../../format';
import { AGGREGATION_ALERT_SECONDS } from './AggregationChart';
import { LevelBadge } from './LevelBadge';

const COLUMNS = 10;
const numeric = { ta: 'right', ff: 'monospace' } as const;

/** Outcomes that are not self-explaining, as a tooltip on their badge. */
const OUTCOME_HINT: Partial<Record<RunOutcome, string>> = {
  fenced: 'fenced: the window was written, but a newer scheduler had taken the lease, so this run could not move the watermark; the newer one covers it',
  cancelled: 'cancelled: stopped on request; the window was rolled back',
};

function OutcomeBadge({ outcome }: { outcome: RunOutcome }) {
  const badge = <StateBadge state={outcome} label={outcome === 'failed' ? 'FAILED' : undefined} variant={outcome === 'ok' ? 'light' : 'filled'} miw={64} testId="run-outcome" />;
  const hint = OUTCOME_HINT[outcome];
  return hint ? (
    <Tooltip label={hint} multiline w={320} openDelay={200}>
      <span style={{ cursor: 'help' }}>{badge}</span>
    </Tooltip>
  ) : (
    badge
  );
}

/** `shard:run id`: run ids count per shard, so an alert's run is named by both. */
export function runKey(shard: number, runId: number): string {
  return `${shard}:${runId}`;
}

function AlertBadge() {
  return (
    <Tooltip label="An alert fired on this run (see the Alerts page)" openDelay={200}>
      <Badge component="a" href="#/alerts" size="xs" color="red" variant="outline" tt="none" radius="sm" ml={6} styles={UNCLIPPED_BADGE} data-testid="run-alert" style={{ cursor: 'pointer' }}>
        alert
      </Badge>
    </Tooltip>
  );
}

function RunRow({ run, alerted }: { run: RunRecord; alerted: boolean }) {
  const slow = run.durationMs !== null && run.durationMs > AGGREGATION_ALERT_SECONDS * 1000;
  const troubled = run.outcome !== 'ok';
  return (
    <Fragment>
      <Table.Tr
        data-testid="run-row"
        data-level={run.level}
        data-shard={run.shardName}
        data-window-start={run.windowStart}
        data-outcome={run.outcome}
        data-alerted={alerted ? 'yes' : 'no'}
        bg={run.outcome === 'failed' ? 'var(--mantine-color-red-light)' : undefined}
      >
        <Table.Td ff="monospace" c="dimmed">
          {formatUtc(run.startedAt, 'second')}
        </Table.Td>
        <Table.Td>
          <LevelBadge level={run.level} />
        </Table.Td>
        <Table.Td fw={600}>{run.shardName}</Table.Td>
        <Table.Td ff="monospace" data-testid="run-window">
          {formatWindow(run.level, run.windowStart, run.windowEnd)}
        </Table.Td>
        <Table.Td>{run.trigger}</Table.Td>
        <Table.Td c="dimmed" maw={180}>
          <Text size="sm" truncate title={run.fencingToken === null ? run.host : `${run.host} · lease token ${run.fencingToken}`}>
            {run.host}
          </Text>
        </Table.Td>
        <Table.Td>
          <OutcomeBadge outcome={run.outcome} />
          {alerted && <AlertBadge />}
        </Table.Td>
        <Table.Td {...numeric}>{formatCount(run.rowsRead)}</Table.Td>
        <Table.Td {...numeric}>{formatCount(run.rowsWritten)}</Table.Td>
        {/* Over the runbook's 5 minutes a window risks outliving its hourly slot. */}
        <Table.Td {...numeric} c={slow ? 'red.4' : undefined} fw={slow ? 700 : undefined}>
          {run.durationMs === null ? 'running' : formatDuration(run.durationMs)}
        </Table.Td>
      </Table.Tr>
      {troubled && run.error && (
        <Table.Tr data-testid="run-error-row" bg={run.outcome === 'failed' ? 'var(--mantine-color-red-light)' : undefined}>
          <Table.Td colSpan={COLUMNS} pt={0} style={{ whiteSpace: 'normal' }}>
            <Text size="sm" c="red.3" ff="monospace" data-testid="run-error">
              {run.error}
            </Text>
          </Table.Td>
        </Table.Tr>
      )}
    </Fragment>
  );
}

/** Newest first; a failed window shows its error on the line below it. */
export function RunTable({ runs, alertedRuns }: { runs: readonly RunRecord[]; alertedRuns?: ReadonlySet<string> }) {
  return (
    <Paper withBorder radius="md" data-testid="run-table">
      <ScrollArea.Autosize mah={520} type="auto">
        <Table verticalSpacing={6} horizontalSpacing="sm" highlightOnHover fz="sm" stickyHeader style={{ whiteSpace: 'nowrap' }}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Started (UTC)</Table.Th>
              <Table.Th>Level</Table.Th>
              <Table.Th>Shard</Table.Th>
              <Table.Th>Window (UTC)</Table.Th>
              <Table.Th>Trigger</Table.Th>
              <Table.Th>Host</Table.Th>
              <Table.Th>Outcome</Table.Th>
              <Table.Th ta="right">Rows read</Table.Th>
              <Table.Th ta="right">Rows written</Table.Th>
              <Table.Th ta="right">Duration</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {runs.length === 0 ? (
              <Table.Tr>
                <Table.Td colSpan={COLUMNS}>
                  <Text size="sm" c="dimmed" ta="center" py="md" data-testid="runs-empty">
                    No rollup has run yet.
                  </Text>
                </Table.Td>
              </Table.Tr>
            ) : (
              runs.map((run) => <RunRow key={`${run.shard}-${run.id}-${run.startedAt}-${run.windowStart}`} run={run} alerted={alertedRuns?.has(runKey(run.shard, run.id)) ?? false} />)
            )}
          </Table.Tbody>
        </Table>
      </ScrollArea.Autosize>
    </Paper>
  );
}
