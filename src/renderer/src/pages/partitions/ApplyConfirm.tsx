import { Alert, List, Text } from '@mantine/core';
import type { PartitionPlanReport } from '../../../../shared/partitions';
import { PlanConfirmModal } from '../../components/PlanConfirmModal';
import { describeAdds, shardStatements, statementCount } from './PartitionPlanView';

interface ApplyConfirmProps {
  opened: boolean;
  /** The plan made when the dialog opened; absent while it is being made. */
  plan: PartitionPlanReport | undefined;
  planError: Error | null;
  onClose(): void;
  onConfirm(): void;
}

/** What Apply would change on each shard, from a plan made just now; nothing runs until it is confirmed. */
export function ApplyConfirm({ opened, plan, planError, onClose, onConfirm }: ApplyConfirmProps) {
  const count = plan ? statementCount(plan) : 0;
  const catchAll = plan?.shards.flatMap((shard) => shard.tables.flatMap((table) => table.warnings.filter((warning) => warning.kind === 'catch-all-rows' && table.statements.length > 0).map((warning) => ({ shard, warning })))) ?? [];
  return (
    <PlanConfirmModal
      opened={opened}
      title="Add these partitions?"
      testId="partition-confirm"
      planName="the partition plan"
      planReady={plan !== undefined}
      planError={planError}
      confirmLabel={`Apply ${count} statement${count === 1 ? '' : 's'}`}
      confirmId="apply"
      canConfirm={count > 0}
      onClose={onClose}
      onConfirm={onConfirm}
    >
      {plan && (
        <>
            <List size="sm" spacing={6} data-testid="partition-confirm-changes">
              {plan.shards.map((shard) => (
                <List.Item key={shard.index} data-testid={`confirm-shard-${shard.index}`}>
                  <Text span fw={700} inherit>
                    {shard.name}:
                  </Text>{' '}
                  {!shard.reachable
                    ? `unreachable now (${shard.problem?.message ?? 'no answer'}); it will be reported as failed`
                    : shardStatements(shard) === 0
                      ? 'nothing to add'
                      : shard.tables
                          .filter((table) => table.statements.length > 0)
                          .map((table) => `${table.table} adds ${describeAdds(table)}`)
                          .join('; ')}
                </List.Item>
              ))}
            </List>
            {catchAll.map(({ shard, warning }) => (
              <Alert key={`${shard.index}-${warning.table}`} color="red" variant="light">
                {shard.name}: {warning.message}
              </Alert>
            ))}
            {count > 0 ? (
              <Alert color="orange" variant="light">
                Each statement reorganises the table&apos;s catch-all partition under a lock on the table; writes to it wait until the statement ends. Every shard plans again under its own
                lock as it applies, so a partition someone else added meanwhile is not added twice.
              </Alert>
            ) : (
              <Text size="sm" c="dimmed">
                Every reachable shard is covered far enough ahead: there is nothing to apply.
              </Text>
            )}
        </>
      )}
    </PlanConfirmModal>
  );
}
