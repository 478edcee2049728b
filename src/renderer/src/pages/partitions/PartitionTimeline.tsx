import { Badge, Box, Group, Paper, Stack, Text, Tooltip } from '@mantine/core';
import type { CSSProperties } from 'react';
import type { PartitionListReport, ShardPartitions, TablePartitions } from '../../../../shared/partitions';
import { describeErrorCode } from '../../errors';
import { formatBytes, formatCount, formatRowEstimate, formatUtc } from '../../format';
import { axisTicks, partitionBytes, shortTable, timelineSegments, WARNING_COLOUR, WARNING_WORDS, type TimelineSegment } from './partition-view';

const STRIP_HEIGHT = 22;
const LABEL_WIDTH = 150;
const FILLED = 'var(--mantine-color-teal-5)';
const CATCH_ALL_ROWS = 'var(--mantine-color-red-6)';

function segmentStyle(segment: TimelineSegment, maxRows: number, min: number, span: number): CSSProperties {
  const { partition } = segment;
  const base: CSSProperties = {
    position: 'absolute',
    top: 0,
    bottom: 0,
    left: `${((segment.start - min) / span) * 100}%`,
    width: `${((segment.end - segment.start) / span) * 100}%`,
    borderRight: '1px solid var(--mantine-color-body)',
    cursor: 'pointer',
  };
  if (segment.openEnd && partition.rows > 0) return { ...base, background: CATCH_ALL_ROWS };
  if (segment.openEnd || segment.openStart) {
    return { ...base, background: 'repeating-linear-gradient(135deg, var(--mantine-color-dark-4) 0 3px, transparent 3px 6px)', opacity: partition.rows > 0 ? 1 : 0.7 };
  }
  if (partition.rows === 0) return { ...base, background: 'var(--mantine-color-dark-5)' };
  // Square root: one busy hour should not make every other hour look empty.
  return { ...base, background: FILLED, opacity: 0.3 + 0.7 * Math.sqrt(partition.rows / Math.max(1, maxRows)) };
}

function SegmentLabel({ segment, shardName, table, exact }: { segment: TimelineSegment; shardName: string; table: string; exact: boolean }) {
  const { partition } = segment;
  return (
    <Stack gap={0} data-testid="segment-tooltip">
      <Text size="xs" fw={700} ff="monospace">
        {partition.name} · {shardName} · {shortTable(table)}
      </Text>
      <Text size="xs" ff="monospace">
        {partition.from === null ? 'anything earlier' : formatUtc(partition.from)} – {partition.to === null ? 'anything later (catch-all)' : formatUtc(partition.to)}
      </Text>
      <Text size="xs">
        {exact ? formatCount(partition.rows) : `~${formatRowEstimate(partition.rows)}`} rows {exact ? '(exact)' : '(estimate)'}
      </Text>
      <Text size="xs">
        {formatBytes(partitionBytes(partition))} = data {formatBytes(partition.dataBytes)} + index {formatBytes(partition.indexBytes)}
      </Text>
    </Stack>
  );
}

function ShardStrip({
  shard,
  tableName,
  table,
  min,
  span,
  maxRows,
  exact,
  nowLeft,
  onPick,
}: {
  shard: ShardPartitions;
  tableName: string;
  table: TablePartitions | undefined;
  min: number;
  span: number;
  maxRows: number;
  exact: boolean;
  nowLeft: string;
  onPick(shard: number, table: string, partition: string): void;
}) {
  const warnings = table?.warnings ?? [];
  return (
    <Group gap="sm" wrap="nowrap" align="center" data-testid={`timeline-${tableName}-${shard.index}`}>
      <Stack gap={2} w={LABEL_WIDTH} style={{ flexShrink: 0 }}>
        <Text size="sm" fw={600}>
          {shard.name}
        </Text>
        {warnings.length > 0 && (
          <Group gap={4}>
            {warnings.map((warning) => (
              <Badge key={warning.kind} size="xs" color={WARNING_COLOUR[warning.kind]} variant="filled" tt="none" radius="sm" title={warning.message}>
                {WARNING_WORDS[warning.kind]}
              </Badge>
            ))}
          </Group>
        )}
      </Stack>
      <Box pos="relative" h={STRIP_HEIGHT} style={{ flex: 1, borderRadius: 3, overflow: 'hidden', background: 'var(--mantine-color-dark-7)' }}>
        {!shard.reachable ? (
          <Text size="xs" c="red.4" fw={600} px="xs" lh={`${STRIP_HEIGHT}px`} truncate data-testid="strip-unreachable">
            unreachable: {shard.problem ? `${describeErrorCode(shard.problem.code)} — ${shard.problem.message}` : 'no answer'}
          </Text>
        ) : !table || !table.partitioned ? (
          <Text size="xs" c="orange.4" fw={600} px="xs" lh={`${STRIP_HEIGHT}px`} truncate>
            {table?.warnings[0]?.message ?? 'not partitioned'}
          </Text>
        ) : (
          <>
            {timelineSegments(table.partitions).map((segment) => (
              <Tooltip key={segment.partition.name} label={<SegmentLabel segment={segment} shardName={shard.name} table={table.table} exact={exact} />} openDelay={0} withinPortal>
                <div
                  role="button"
                  tabIndex={-1}
                  style={segmentStyle(segment, maxRows, min, span)}
                  onClick={() => onPick(shard.index, table.table, segment.partition.name)}
                  data-testid="timeline-segment"
                  data-partition={segment.partition.name}
                  data-rows={segment.partition.rows}
                />
              </Tooltip>
            ))}
            <Box pos="absolute" top={0} bottom={0} w={2} bg="yellow.4" style={{ left: nowLeft, pointerEvents: 'none' }} />
          </>
        )}
      </Box>
    </Group>
  );
}

/**
 * One table's partitions on every shown shard, along one UTC time axis with a line at the time of the reading.
 * Each table gets its own axis: a week of hours and a decade of years cannot share one.
 */
function TableTimeline({ report, table, shards, onPick }: { report: PartitionListReport; table: string; shards: readonly ShardPartitions[]; onPick(shard: number, table: string, partition: string): void }) {
  const tables = shards.map((shard) => shard.tables.find((entry) => entry.table === table));
  const segments = tables.flatMap((entry) => (entry ? timelineSegments(entry.partitions) : []));
  const now = Date.parse(report.checkedAt);
  const min = Math.min(...segments.map((segment) => segment.start), now);
  const max = Math.max(...segments.map((segment) => segment.end), now);
  const span = Math.max(1, max - min);
  // The catch-all is coloured by having rows at all, so it does not set the scale for the others.
  const maxRows = Math.max(0, ...segments.filter((segment) => !segment.openEnd).map((segment) => segment.partition.rows));
  const partitionCount = Math.max(0, ...tables.map((entry) => entry?.partitions.length ?? 0));
  const rows = tables.reduce((sum, entry) => sum + (entry?.partitions.reduce((total, partition) => total + partition.rows, 0) ?? 0), 0);
  const bytes = tables.reduce((sum, entry) => sum + (entry?.partitions.reduce((total, partition) => total + partitionBytes(partition), 0) ?? 0), 0);
  const nowLeft = `${((now - min) / span) * 100}%`;
  return (
    <Paper withBorder radius="md" p="md" data-testid={`timeline-${table}`}>
      <Group justify="space-between" mb="xs">
        <Text fw={650} ff="monospace" size="sm">
          {table}
        </Text>
        <Text size="xs" c="dimmed">
          up to {partitionCount} partitions per shard · {report.exact ? formatCount(rows) : `~${formatRowEstimate(rows)}`} rows · {formatBytes(bytes)} on the shards shown
        </Text>
      </Group>
      <Stack gap={6}>
        {shards.map((shard, position) => (
          <ShardStrip key={shard.index} shard={shard} tableName={table} table={tables[position]} min={min} span={span} maxRows={maxRows} exact={report.exact} nowLeft={nowLeft} onPick={onPick} />
        ))}
        <Group gap="sm" wrap="nowrap">
          <Box w={LABEL_WIDTH} style={{ flexShrink: 0 }} />
          <Box pos="relative" h={16} style={{ flex: 1 }}>
            {axisTicks(min, max)
              .filter((tick) => Math.abs(tick.at - now) / span > 0.04)
              .map((tick) => (
                <Text key={tick.at} size="10px" c="dimmed" ff="monospace" pos="absolute" top={0} style={{ left: `${((tick.at - min) / span) * 100}%`, transform: 'translateX(-50%)', whiteSpace: 'nowrap' }}>
                  {tick.label}
                </Text>
              ))}
            <Text size="10px" fw={700} c="yellow.4" pos="absolute" top={0} style={{ left: nowLeft, transform: 'translateX(-50%)', whiteSpace: 'nowrap', background: 'var(--mantine-color-body)', padding: '0 3px' }}>
              now
            </Text>
          </Box>
        </Group>
      </Stack>
    </Paper>
  );
}

/** The timelines of the chosen tables, each with one strip per chosen shard; a click picks that partition below. */
export function PartitionTimeline({
  report,
  shards,
  tables,
  onPick,
}: {
  report: PartitionListReport;
  shards: readonly ShardPartitions[];
  tables: readonly string[];
  onPick(shard: number, table: string, partition: string): void;
}) {
  return (
    <Stack gap="sm" data-testid="partition-timeline">
      {tables.map((table) => (
        <TableTimeline key={table} report={report} table={table} shards={shards} onPick={onPick} />
      ))}
      <Group gap="lg">
        <Legend swatch={{ background: FILLED }} text="partition with rows (brighter = more)" />
        <Legend swatch={{ background: 'var(--mantine-color-dark-5)' }} text="empty" />
        <Legend swatch={{ background: 'repeating-linear-gradient(135deg, var(--mantine-color-dark-4) 0 3px, transparent 3px 6px)' }} text="first partition / catch-all (open-ended)" />
        <Legend swatch={{ background: CATCH_ALL_ROWS }} text="catch-all holding rows" />
        <Text size="xs" c="dimmed">
          times in UTC · hover a partition for its rows and size
        </Text>
      </Group>
    </Stack>
  );
}

function Legend({ swatch, text }: { swatch: CSSProperties; text: string }) {
  return (
    <Group gap={6}>
      <Box w={14} h={10} style={{ ...swatch, borderRadius: 2 }} />
      <Text size="xs" c="dimmed">
        {text}
      </Text>
    </Group>
  );
}
