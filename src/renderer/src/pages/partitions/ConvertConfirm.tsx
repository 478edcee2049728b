import { Alert, Badge, Button, Code, CopyButton, Group, Paper, ScrollArea, Stack, Text } from '@mantine/core';
import type { ConversionPlanReport, ShardConversionPlan, TableConversionPlan } from '../../../../shared/partitions';
import { PlanConfirmModal } from '../../components/PlanConfirmModal';
import { formatBytes, formatCount, formatDuration, formatUtc } from '../../format';
import { ProblemLine } from '../../components/ProblemLine';

/** The shard and table a Convert… button was pressed for. */
export interface ConvertTarget {
  shard: number;
  table: string;
}

interface ConvertConfirmProps {
  target: ConvertTarget | undefined;
  /** The plan made when the dialog opened; absent while it is being made. */
  plan: ConversionPlanReport | undefined;
  planError: Error | null;
  onClose(): void;
  onConfirm(): void;
}

/** Whole seconds below a minute (`3 s`, not `3.00 s`): the estimate is a rough one. */
export const describeSeconds = (seconds: number) => (seconds < 60 ? `${seconds} s` : formatDuration(seconds * 1000));

export const convertible = (plan: ConversionPlanReport) => plan.shards.filter((shard) => shard.plan?.action === 'convert');

function PlanFacts({ plan }: { plan: TableConversionPlan }) {
  const names = plan.partitions.map((partition) => partition.name);
  return (
    <Stack gap={6}>
      <Text size="sm" data-testid="convert-size">
        ~{formatCount(plan.estimatedRows)} rows · {formatBytes(plan.dataBytes + plan.indexBytes)} ({formatBytes(plan.dataBytes)} data, {formatBytes(plan.indexBytes)} index) · estimated about{' '}
        {describeSeconds(plan.estimatedSeconds)}
      </Text>
      <Text size="sm" c="dimmed" data-testid="convert-partitions">
        {plan.oldestRow ? `oldest row ${formatUtc(plan.oldestRow)} UTC` : 'no rows'} · {names.length} partitions by {plan.expression}: {names[0]} … {names.at(-2)}, {names.at(-1)}
      </Text>
      {plan.primaryKeyAfter.join() !== plan.primaryKeyBefore.join() && (
        <Text size="sm" data-testid="convert-key-change">
          primary key ({plan.primaryKeyBefore.join(', ')}) → ({plan.primaryKeyAfter.join(', ')})
        </Text>
      )}
      {plan.warnings.map((warning) => (
        <Alert key={warning} color="orange" variant="light" p="xs" data-testid="convert-warning">
          <Text size="sm">{warning}</Text>
        </Alert>
      ))}
      {plan.statement && (
        <Stack gap={4}>
          <Group justify="flex-end">
            <CopyButton value={`${plan.statement};`}>
              {({ copied, copy }) => (
                <Button size="compact-xs" variant="subtle" onClick={copy}>
                  {copied ? 'Copied' : 'Copy SQL'}
                </Button>
              )}
            </CopyButton>
          </Group>
          <ScrollArea.Autosize mah={180} type="auto">
            <Code block fz="xs" style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }} data-testid="convert-sql">
              {plan.statement}
            </Code>
          </ScrollArea.Autosize>
        </Stack>
      )}
    </Stack>
  );
}

function ShardCard({ shard }: { shard: ShardConversionPlan }) {
  const plan = shard.plan;
  const action = !shard.reachable || !plan ? 'unreachable' : plan.action;
  const colour = { unreachable: 'red', refused: 'red', 'already-partitioned': 'teal', convert: 'blue' }[action];
  return (
    <Paper withBorder radius="md" p="md" data-testid={`convert-plan-shard-${shard.index}`} data-action={action}>
      <Stack gap="sm">
        <Group justify="space-between">
          <Text fw={700}>
            {shard.name}
            {plan && (
              <Text span ff="monospace" fw={400} c="dimmed" ml={8} inherit>
                {plan.table}
              </Text>
            )}
          </Text>
          <Badge color={colour} variant={action === 'convert' ? 'light' : 'filled'} tt="none" radius="sm">
            {action === 'convert' ? 'will convert' : action}
          </Badge>
        </Group>
        {shard.problem && <ProblemLine problem={shard.problem} />}
        {plan?.action === 'refused' && (
          <Text size="sm" c="red.4" data-testid="convert-refusal">
            {plan.problem?.message ?? 'the table cannot be converted as it is'}; nothing will run
          </Text>
        )}
        {plan?.action === 'already-partitioned' && (
          <Text size="sm" c="dimmed">
            {plan.table} is already partitioned; nothing to do.
          </Text>
        )}
        {plan?.action === 'convert' && <PlanFacts plan={plan} />}
      </Stack>
    </Paper>
  );
}

/** What converting the table would do on the shard, from a plan made just now; nothing runs until it is confirmed. */
export function ConvertConfirm({ target, plan, planError, onClose, onConfirm }: ConvertConfirmProps) {
  const count = plan ? convertible(plan).length : 0;
  return (
    <PlanConfirmModal
      opened={target !== undefined}
      title={target ? `Convert ${target.table} into partitions?` : 'Convert into partitions?'}
      testId="convert-confirm"
      planName="the conversion plan"
      planReady={plan !== undefined}
      planError={planError}
      confirmLabel={count > 0 ? `Convert on ${count} shard${count === 1 ? '' : 's'}` : 'Nothing to convert'}
      confirmId="convert"
      confirmColor="orange"
      canConfirm={count > 0}
      onClose={onClose}
      onConfirm={onConfirm}
    >
      {plan && (
        <Stack gap="sm" data-testid="convert-confirm-plan">
          {plan.shards.map((shard) => (
            <ShardCard key={shard.index} shard={shard} />
          ))}
          <Text size="xs" c="dimmed">
            Planned {formatUtc(plan.plannedAt, 'second')} UTC. The shard plans again under the partition lock just before the ALTER, so a table someone converted meanwhile is left alone.
          </Text>
        </Stack>
      )}
    </PlanConfirmModal>
  );
}
