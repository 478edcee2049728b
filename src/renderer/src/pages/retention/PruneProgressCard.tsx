import { Table, Text } from '@mantine/core';
import { RETAINED_TABLES, type PruneProgress, type PruneReport } from '../../../../shared/retention';
import { ProgressCard } from '../../components/ProgressCard';
import { ShardProgressRow, ShardProgressTable } from '../../components/ShardProgressTable';
import { formatCount } from '../../format';
import { progressKey } from './use-retention';

type LineState = 'waiting' | 'running' | 'done' | 'stopped';

/**
 * Live progress of a prune, one line per shard and table that has something to remove (from the dry run the
 * confirmation showed). Dropping partitions is one statement; deletes advance batch by batch.
 */
export function PruneProgressCard({
  plan,
  latest,
  received,
  running,
  failed,
}: {
  plan: PruneReport;
  latest: ReadonlyMap<string, PruneProgress>;
  received: number;
  running: boolean;
  /** The prune call itself failed or was refused (the reason is shown next to this card). */
  failed: boolean;
}) {
  const lines = plan.shards.flatMap((shard) =>
    shard.tables
      .filter((table) => table.drops.length > 0 || table.deletes.length > 0)
      .map((table) => {
        const event = latest.get(progressKey(shard.index, table.table));
        const deleteRows = table.deletes.reduce((sum, range) => sum + range.rows, 0);
        const state: LineState = !event ? 'waiting' : event.kind !== 'table-finished' ? 'running' : event.message ? 'stopped' : 'done';
        return { shard, table, event, deleteRows, state };
      }),
  );
  const overall = running ? 'running' : failed ? 'failed' : lines.some((line) => line.state === 'stopped') ? 'stopped' : 'done';
  return (
    <ProgressCard
      title={{ running: 'Pruning…', failed: 'Prune failed', stopped: 'Prune stopped early', done: 'Prune finished' }[overall]}
      state={overall}
      testId="prune-progress"
      data={{ events: received }}
    >
      {lines.length === 0 && (
        <Text size="sm" c="dimmed">
          The dry run found nothing to remove; the prune checks again on every shard.
        </Text>
      )}
      <ShardProgressTable>
        {lines.map(({ shard, table, event, deleteRows, state }) => {
          const deleted = event?.deletedRows ?? 0;
          const dropped = event?.droppedPartitions ?? 0;
          const done = (table.drops.length > 0 ? (dropped >= table.drops.length ? 1 : 0) : 0) + (deleteRows > 0 ? Math.min(1, deleted / deleteRows) : 0);
          const parts = (table.drops.length > 0 ? 1 : 0) + (deleteRows > 0 ? 1 : 0);
          return (
            <ShardProgressRow
              key={`${shard.index}-${table.table}`}
              name={shard.name}
              state={state}
              percent={state === 'done' ? 100 : parts === 0 ? 0 : (done / parts) * 100}
              testId={`prune-progress-${shard.index}-${table.table}`}
              subject={
                <Table.Td w={90} ff="monospace">
                  {RETAINED_TABLES[table.table].label}
                </Table.Td>
              }
            >
              <Text size="xs" ff="monospace">
                {table.drops.length > 0 && `partitions dropped ${dropped} of ${table.drops.length}`}
                {table.drops.length > 0 && table.deletes.length > 0 && ' · '}
                {table.deletes.length > 0 && `rows deleted ${formatCount(deleted)} of ~${formatCount(deleteRows)}`}
              </Text>
              {event?.message && (
                <Text size="xs" c={state === 'stopped' ? 'orange.4' : 'dimmed'}>
                  {event.kind === 'table-finished' ? `stopped by ${event.message}` : event.message}
                </Text>
              )}
            </ShardProgressRow>
          );
        })}
      </ShardProgressTable>
    </ProgressCard>
  );
}
