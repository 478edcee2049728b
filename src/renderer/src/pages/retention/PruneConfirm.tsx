import { Alert, List, Text } from '@mantine/core';
import { RETAINED_TABLES, type PruneReport, type ShardPrune } from '../../../../shared/retention';
import { PlanConfirmModal } from '../../components/PlanConfirmModal';
import { formatBytes, formatCount } from '../../format';

/** `raw 1,204 rows (37 partitions) · 5 windows kept back`, or why the shard is not pruned. */
function shardSummary(shard: ShardPrune): string {
  if (shard.problem) return `not pruned: ${shard.problem.message}`;
  if (shard.blockedBy) return `skipped: ${shard.blockedBy}`;
  const parts = shard.tables
    .filter((table) => table.drops.length > 0 || table.deletes.length > 0)
    .map((table) => {
      const how = [table.drops.length > 0 ? `${table.drops.length} partition${table.drops.length === 1 ? '' : 's'}` : '', table.deletes.length > 0 ? `${table.deletes.length} delete range${table.deletes.length === 1 ? '' : 's'}` : '']
        .filter(Boolean)
        .join(' + ');
      return `${RETAINED_TABLES[table.table].label} ${formatCount(table.rows)} rows (${how})`;
    });
  const kept = shard.tables.reduce((sum, table) => sum + table.kept.length, 0);
  return `${parts.length > 0 ? parts.join('; ') : 'nothing past retention'}${kept > 0 ? ` · ${kept} window${kept === 1 ? '' : 's'} kept back` : ''}`;
}

/** What a prune would remove on each shard, from a dry run made just now; nothing is removed until it is confirmed. */
export function PruneConfirm({ opened, plan, planError, onClose, onConfirm }: { opened: boolean; plan: PruneReport | undefined; planError: Error | null; onClose(): void; onConfirm(): void }) {
  const work = plan ? plan.totals.rows + plan.totals.partitions : 0;
  return (
    <PlanConfirmModal
      opened={opened}
      title="Prune now?"
      testId="prune-confirm"
      planName="the dry run"
      planReady={plan !== undefined}
      planError={planError}
      confirmLabel="Prune now"
      confirmId="run"
      confirmColor="red"
      canConfirm={work > 0}
      onClose={onClose}
      onConfirm={onConfirm}
    >
      {plan && (
        <>
            <List size="sm" spacing={6} data-testid="prune-confirm-changes">
              {plan.shards.map((shard) => (
                <List.Item key={shard.index} data-testid={`prune-confirm-shard-${shard.index}`}>
                  <Text span fw={700} inherit>
                    {shard.name}:
                  </Text>{' '}
                  {shardSummary(shard)}
                </List.Item>
              ))}
            </List>
            <Text size="sm" data-testid="prune-confirm-totals">
              In all {formatCount(plan.totals.rows)} rows in {plan.totals.partitions} dropped partition{plan.totals.partitions === 1 ? '' : 's'} and batched deletes, freeing about {formatBytes(plan.totals.bytes)}.
            </Text>
            {work > 0 ? (
              <Alert color="red" variant="light">
                Removed rows are gone for good: only a backup brings them back. Each shard is planned again as it is pruned, so a window that is no longer rolled up by then is kept back.
              </Alert>
            ) : (
              <Text size="sm" c="dimmed">
                Nothing is past retention and allowed to go: there is nothing to prune.
              </Text>
            )}
        </>
      )}
    </PlanConfirmModal>
  );
}
