import { Alert, Badge, Paper, ScrollArea, Stack, Table, Text } from '@mantine/core';
import { RETAINED_TABLES, type KeptReason, type PruneReport, type ShardPrune, type TablePrune } from '../../../../shared/retention';
import { SectionTitle } from '../../components/SectionTitle';
import { StateBadge } from '../../components/StateBadge';
import { describeErrorCode } from '../../errors';
import { formatBytes, formatCount, formatDuration, formatUtc } from '../../format';

const numeric = { ta: 'right', ff: 'monospace' } as const;

export const KEPT_WORDS: Record<KeptReason, string> = {
  'not-rolled-up': 'not rolled up',
  'totals-differ': 'totals differ',
  'time-budget': 'time budget',
  cancelled: 'cancelled',
  'backup-running': 'backup running',
  'late-rows': 'late rows',
  'table-locked': 'table locked',
};

const label = (table: TablePrune['table']) => RETAINED_TABLES[table].label;
const range = (from: string | null, to: string) => `${from === null ? 'anything earlier' : formatUtc(from)} – ${formatUtc(to)}`;

function ResultCell({ table }: { table: TablePrune }) {
  const result = table.result;
  if (!result) return null;
  return (
    <Stack gap={2}>
      <Text size="sm" data-testid="prune-result" c={result.droppedPartitions + result.deletedRows === 0 ? 'dimmed' : undefined}>
        {result.droppedPartitions + result.deletedRows === 0 && table.drops.length + table.deletes.length === 0
          ? 'nothing to remove'
          : `dropped ${result.droppedPartitions} partition${result.droppedPartitions === 1 ? '' : 's'}, deleted ${formatCount(result.deletedRows)} rows`}{' '}
        · {formatDuration(result.elapsedMs)}
      </Text>
      {result.stoppedBy && (
        <Badge color={result.stoppedBy === 'failed' ? 'red' : 'yellow'} variant="filled" tt="none" radius="sm" w="fit-content">
          stopped by {result.stoppedBy}
        </Badge>
      )}
      {result.error && (
        <Text size="xs" c="red.4">
          {result.error}
        </Text>
      )}
    </Stack>
  );
}

function ShardProblems({ shards }: { shards: readonly ShardPrune[] }) {
  return shards
    .filter((shard) => shard.problem || shard.blockedBy)
    .map((shard) =>
      shard.blockedBy ? (
        <Alert key={shard.index} color="orange" variant="light" title={`${shard.name} is not pruned now`} data-testid={`prune-blocked-${shard.index}`}>
          {shard.blockedBy}
        </Alert>
      ) : (
        <Alert key={shard.index} color="red" variant="light" title={`${shard.name}: ${describeErrorCode(shard.problem!.code)}`} data-testid={`prune-problem-${shard.index}`}>
          {shard.problem!.message}
        </Alert>
      ),
    );
}

/**
 * A dry run, or a prune's result: per shard and table the cutoff, the partitions to drop and ranges to delete with
 * their rows and bytes, and every expired window kept back with its reason and what to do about it.
 */
export function PruneReportView({ report }: { report: PruneReport }) {
  const rows = report.shards.flatMap((shard) => shard.tables.map((table) => ({ shard, table })));
  const removals = rows.flatMap(({ shard, table }) => [
    ...table.drops.map((drop) => ({ shard, table, kind: 'drop' as const, key: drop.name, what: `DROP PARTITION ${drop.name}`, range: range(drop.from, drop.to), rows: drop.rows, bytes: drop.bytes })),
    // Deleted rows leave their space inside the table, so a delete frees no size that could be shown.
    ...table.deletes.map((remove) => ({ shard, table, kind: 'delete' as const, key: remove.from, what: 'DELETE in batches', range: range(remove.from, remove.to), rows: remove.rows, bytes: undefined })),
  ]);
  const kept = rows.flatMap(({ shard, table }) => table.kept.map((window) => ({ shard, window })));
  return (
    <Stack gap={6} data-testid="prune-report" data-dry-run={report.dryRun} data-rows={report.totals.rows} data-partitions={report.totals.partitions} data-kept={report.totals.kept}>
      <SectionTitle
        right={
          <Text size="sm" data-testid="prune-totals">
            {formatCount(report.totals.rows)} rows · {report.totals.partitions} partitions · {formatBytes(report.totals.bytes)} {report.dryRun ? 'to remove' : 'planned'} · {report.totals.kept} windows kept back ·{' '}
            {report.dryRun ? 'planned' : 'ran'} {formatUtc(report.plannedAt, 'second')} UTC
          </Text>
        }
      >
        {report.dryRun ? 'Dry run' : 'Prune result'}
      </SectionTitle>
      <ShardProblems shards={report.shards} />
      <Paper withBorder radius="md">
        <Table.ScrollContainer minWidth={report.dryRun ? 980 : 1240} type="native">
          <Table fz="sm" verticalSpacing={6} horizontalSpacing="md">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Shard</Table.Th>
                <Table.Th>Table</Table.Th>
                <Table.Th>Cutoff (UTC)</Table.Th>
                <Table.Th ta="right">Partitions to drop</Table.Th>
                <Table.Th ta="right">Ranges to delete</Table.Th>
                <Table.Th ta="right">Rows</Table.Th>
                <Table.Th ta="right">Size freed</Table.Th>
                <Table.Th ta="right">Kept back</Table.Th>
                {!report.dryRun && <Table.Th>Result</Table.Th>}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {rows.map(({ shard, table }) => (
                <Table.Tr
                  key={`${shard.index}-${table.table}`}
                  data-testid="prune-table-row"
                  data-shard={shard.index}
                  data-table={table.table}
                  data-drops={table.drops.length}
                  data-deletes={table.deletes.length}
                  data-rows={table.rows}
                  data-kept={table.kept.length}
                  data-dropped={table.result?.droppedPartitions}
                  data-deleted={table.result?.deletedRows}
                  data-stopped-by={table.result?.stoppedBy}
                >
                  <Table.Td fw={600}>{shard.name}</Table.Td>
                  <Table.Td>
                    <Text span ff="monospace" size="sm">
                      {label(table.table)}
                    </Text>
                    {!table.partitioned && (
                      <Text span size="xs" c="dimmed" ml={6}>
                        (not partitioned)
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td ff="monospace" style={{ whiteSpace: 'nowrap' }}>
                    {formatUtc(table.cutoff)}
                  </Table.Td>
                  <Table.Td {...numeric}>{table.drops.length}</Table.Td>
                  <Table.Td {...numeric}>{table.deletes.length}</Table.Td>
                  <Table.Td {...numeric}>{formatCount(table.rows)}</Table.Td>
                  <Table.Td {...numeric}>{formatBytes(table.bytes)}</Table.Td>
                  <Table.Td {...numeric} c={table.kept.length > 0 ? 'orange.4' : undefined}>
                    {table.kept.length}
                  </Table.Td>
                  {!report.dryRun && (
                    <Table.Td>
                      <ResultCell table={table} />
                    </Table.Td>
                  )}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Paper>
      {removals.length > 0 && (
        <Stack gap={4}>
          <Text size="sm" fw={600}>
            {report.dryRun ? 'What would go' : 'What was planned to go'}
          </Text>
          <Paper withBorder radius="md">
            <ScrollArea.Autosize mah={300} type="auto">
              <Table fz="sm" verticalSpacing={4} horizontalSpacing="md" stickyHeader>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Shard</Table.Th>
                    <Table.Th>Table</Table.Th>
                    <Table.Th>How</Table.Th>
                    <Table.Th>Range (UTC)</Table.Th>
                    <Table.Th ta="right">Rows</Table.Th>
                    <Table.Th ta="right">Size</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {removals.map((removal) => (
                    <Table.Tr key={`${removal.shard.index}-${removal.table.table}-${removal.kind}-${removal.key}`} data-testid={`prune-${removal.kind}`} data-shard={removal.shard.index} data-table={removal.table.table} data-key={removal.key}>
                      <Table.Td>{removal.shard.name}</Table.Td>
                      <Table.Td ff="monospace">{label(removal.table.table)}</Table.Td>
                      <Table.Td ff="monospace">{removal.what}</Table.Td>
                      <Table.Td ff="monospace">{removal.range}</Table.Td>
                      <Table.Td {...numeric}>{formatCount(removal.rows)}</Table.Td>
                      <Table.Td {...numeric}>{removal.bytes === undefined ? '—' : formatBytes(removal.bytes)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </ScrollArea.Autosize>
          </Paper>
        </Stack>
      )}
      {kept.length > 0 && (
        <Stack gap={4}>
          <Text size="sm" fw={600}>
            Windows kept back
          </Text>
          <Paper withBorder radius="md" data-testid="kept-windows">
            <ScrollArea.Autosize mah={360} type="auto">
              <Table fz="sm" verticalSpacing={4} horizontalSpacing="md" stickyHeader>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Shard</Table.Th>
                    <Table.Th>Table</Table.Th>
                    <Table.Th>Window (UTC)</Table.Th>
                    <Table.Th>Why</Table.Th>
                    <Table.Th ta="right" style={{ whiteSpace: 'nowrap' }}>
                      Page views (here → next)
                    </Table.Th>
                    <Table.Th miw={380}>What to do</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {kept.map(({ shard, window }) => (
                    <Table.Tr
                      key={`${shard.index}-${window.table}-${window.windowStart}-${window.reason}`}
                      data-testid="kept-window"
                      data-shard={shard.index}
                      data-table={window.table}
                      data-window-start={window.windowStart}
                      data-reason={window.reason}
                    >
                      <Table.Td>{shard.name}</Table.Td>
                      <Table.Td ff="monospace">{label(window.table)}</Table.Td>
                      <Table.Td ff="monospace" style={{ whiteSpace: 'nowrap' }}>
                        {range(window.windowStart, window.windowEnd)}
                      </Table.Td>
                      <Table.Td>
                        <StateBadge state={window.reason} label={KEPT_WORDS[window.reason]} variant="light" miw={110} />
                      </Table.Td>
                      <Table.Td {...numeric} style={{ whiteSpace: 'nowrap' }}>
                        {window.sourcePageViews === undefined ? '—' : formatCount(window.sourcePageViews)} → {window.nextLevelPageViews === undefined ? '—' : formatCount(window.nextLevelPageViews)}
                      </Table.Td>
                      <Table.Td>
                        <Text size="xs" data-testid="kept-message">
                          {window.message}
                        </Text>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </ScrollArea.Autosize>
          </Paper>
        </Stack>
      )}
    </Stack>
  );
}
