import { Badge, Paper, Table, Text, Tooltip } from '@mantine/core';
import { ROLLUP_LEVELS, type WatermarkRow } from '../../../../shared/rollup';
import type { ScheduleEntry } from '../../../../shared/schedule';
import { ProblemLine } from '../../components/ProblemLine';
import { StateBadge } from '../../components/StateBadge';
import { formatDuration, formatRelative, formatUtc } from '../../format';
import { useNow } from '../../hooks/use-now';
import { LevelBadge } from './LevelBadge';
import { jobOfLevel, watermarkLag, type LagState } from './watermark-lag';

const LAG_WORDS: Record<LagState, string> = { 'on-time': 'on time', behind: 'BEHIND', 'not-started': 'not started', unknown: 'unknown' };

function NextRun({ schedule, now }: { schedule: ScheduleEntry | undefined; now: number }) {
  if (!schedule) return <Text size="sm" c="dimmed">—</Text>;
  if (!schedule.enabled) {
    return (
      <Badge color="orange" variant="light" tt="none" radius="sm">
        schedule disabled
      </Badge>
    );
  }
  const next = schedule.nextRuns[0];
  return (
    <Text size="sm" ff="monospace" c="dimmed" span style={{ whiteSpace: 'nowrap' }}>
      {next ? `${formatUtc(next)} (${formatRelative(next, now)})` : 'never'}
    </Text>
  );
}

function WatermarkLine({ row, schedule, now }: { row: WatermarkRow; schedule: ScheduleEntry | undefined; now: number }) {
  const lag = watermarkLag(row, now, schedule);
  return (
    <Table.Tr
      data-testid={`watermark-${row.level}-${row.shard}`}
      data-lag-state={lag.state}
      bg={lag.state === 'behind' ? 'var(--mantine-color-orange-light)' : undefined}
    >
      <Table.Td>
        <LevelBadge level={row.level} />
      </Table.Td>
      <Table.Td fw={600}>{row.shardName}</Table.Td>
      {row.problem ? (
        <Table.Td colSpan={4}>
          <ProblemLine problem={row.problem} />
        </Table.Td>
      ) : (
        <>
          <Table.Td ff="monospace" data-testid="watermark-value">
            {row.watermark ? formatUtc(row.watermark) : '—'}
          </Table.Td>
          <Table.Td ta="right" ff="monospace" fw={lag.state === 'behind' ? 700 : undefined} c={lag.state === 'behind' ? 'orange.3' : undefined} data-testid="watermark-lag">
            {lag.lagMs === undefined ? '—' : formatDuration(lag.lagMs)}
          </Table.Td>
          <Table.Td>
            <Tooltip label={`late when more than ${formatDuration(lag.limitMs)} behind: one window, the schedule's offset and an hour to run`} openDelay={300}>
              <span>
                <StateBadge state={lag.state} label={LAG_WORDS[lag.state]} miw={84} testId="watermark-state" />
              </span>
            </Tooltip>
          </Table.Td>
          <Table.Td c="dimmed">
            <Text size="sm" span>
              {row.updatedAt ? `${formatUtc(row.updatedAt)} by ${row.updatedBy ?? 'unknown'}` : '—'}
            </Text>
          </Table.Td>
        </>
      )}
      <Table.Td>
        <NextRun schedule={schedule} now={now} />
      </Table.Td>
    </Table.Tr>
  );
}

/**
 * Where each level stands on each shard: the watermark (end of the last contiguous rolled-up window) and how far
 * behind now it is. A level behind by more than one window plus its schedule's slack is highlighted.
 */
export function WatermarkTable({ rows, schedules }: { rows: readonly WatermarkRow[]; schedules: readonly ScheduleEntry[] | undefined }) {
  const now = useNow(5000);
  const ordered = [...rows].sort((a, b) => ROLLUP_LEVELS.indexOf(a.level) - ROLLUP_LEVELS.indexOf(b.level) || a.shard - b.shard);
  return (
    <Paper withBorder radius="md" data-testid="watermark-table">
      <Table.ScrollContainer minWidth={980} type="native">
        <Table verticalSpacing={7} horizontalSpacing="md" fz="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Level</Table.Th>
              <Table.Th>Shard</Table.Th>
              <Table.Th>Watermark (UTC)</Table.Th>
              <Table.Th ta="right">Lag</Table.Th>
              <Table.Th>State</Table.Th>
              <Table.Th>Last moved</Table.Th>
              <Table.Th>Next scheduled run (UTC)</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {ordered.map((row) => (
              <WatermarkLine key={`${row.level}-${row.shard}`} row={row} now={now} schedule={schedules?.find((entry) => entry.job === jobOfLevel(row.level))} />
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Paper>
  );
}
