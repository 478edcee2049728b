import { Badge, Button, Code, CopyButton, Group, Paper, ScrollArea, Stack, Text } from '@mantine/core';
import type { PartitionPlanReport, ShardPlan, TablePlanReport } from '../../../../shared/partitions';
import { SectionTitle } from '../../components/SectionTitle';
import { formatUtc } from '../../format';
import { WARNING_COLOUR, WARNING_WORDS } from './partition-view';
import { ProblemLine } from '../../components/ProblemLine';

export const statementCount = (plan: PartitionPlanReport) => plan.shards.reduce((sum, shard) => sum + shardStatements(shard), 0);
export const shardStatements = (shard: ShardPlan) => shard.tables.reduce((sum, table) => sum + table.statements.length, 0);

/** `48 partitions, p2025112700 … p2025112823` */
export function describeAdds(table: TablePlanReport): string {
  const [first] = table.adds;
  const last = table.adds.at(-1);
  if (!first || !last) return 'no partitions';
  return `${table.adds.length} partition${table.adds.length === 1 ? '' : 's'}, ${first === last ? first : `${first} … ${last}`}`;
}

function TableStatements({ table }: { table: TablePlanReport }) {
  return (
    <Stack gap={4} data-testid="plan-table" data-table={table.table} data-adds={table.adds.length}>
      <Group gap="sm" justify="space-between">
        <Text size="sm">
          <Text span ff="monospace" fw={600} inherit>
            {table.table}
          </Text>{' '}
          adds {describeAdds(table)}
        </Text>
        <CopyButton value={table.statements.map((sql) => `${sql};`).join('\n')}>
          {({ copied, copy }) => (
            <Button size="compact-xs" variant="subtle" onClick={copy}>
              {copied ? 'Copied' : 'Copy SQL'}
            </Button>
          )}
        </CopyButton>
      </Group>
      {table.statements.map((sql) => (
        <ScrollArea.Autosize key={sql} mah={160} type="auto">
          <Code block fz="xs" style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }} data-testid="plan-sql">
            {sql}
          </Code>
        </ScrollArea.Autosize>
      ))}
    </Stack>
  );
}

function ShardPlanCard({ shard }: { shard: ShardPlan }) {
  const count = shardStatements(shard);
  // A short runway is what the statements fix; the other warnings stay true after applying them.
  const warnings = shard.tables.flatMap((table) => table.warnings).filter((warning) => warning.kind !== 'too-few-ahead');
  return (
    <Paper withBorder radius="md" p="md" data-testid={`plan-shard-${shard.index}`} data-statements={count} data-reachable={shard.reachable}>
      <Stack gap="sm">
        <Group justify="space-between">
          <Text fw={700}>{shard.name}</Text>
          {!shard.reachable ? (
            <Badge color="red" variant="filled" tt="none" radius="sm">
              unreachable
            </Badge>
          ) : (
            <Badge color={count > 0 ? 'blue' : 'teal'} variant="light" tt="none" radius="sm" data-testid="plan-shard-summary">
              {count > 0 ? `${count} statement${count === 1 ? '' : 's'}` : 'nothing to add'}
            </Badge>
          )}
        </Group>
        {shard.problem && <ProblemLine problem={shard.problem} />}
        {shard.reachable && count === 0 && (
          <Text size="sm" c="dimmed">
            Every table is covered far enough ahead.
          </Text>
        )}
        {shard.tables
          .filter((table) => table.statements.length > 0)
          .map((table) => (
            <TableStatements key={table.table} table={table} />
          ))}
        {warnings.map((warning) => (
          <Text key={`${warning.table}-${warning.kind}`} size="sm" c={`${WARNING_COLOUR[warning.kind]}.4`}>
            <Text span fw={700} inherit>
              {WARNING_WORDS[warning.kind]}:
            </Text>{' '}
            {warning.message}
          </Text>
        ))}
      </Stack>
    </Paper>
  );
}

/** The exact SQL each shard would run now to keep its partitions ahead; nothing has changed yet. */
export function PartitionPlanView({ plan }: { plan: PartitionPlanReport }) {
  const count = statementCount(plan);
  return (
    <Stack gap={6} data-testid="partition-plan" data-statements={count}>
      <SectionTitle
        right={
          <Text size="sm" data-testid="partition-plan-totals">
            {count} statement{count === 1 ? '' : 's'} on {plan.shards.filter((shard) => shardStatements(shard) > 0).length} of {plan.shards.length} shards · planned {formatUtc(plan.plannedAt, 'second')} UTC
          </Text>
        }
      >
        Plan (dry run)
      </SectionTitle>
      {plan.shards.map((shard) => (
        <ShardPlanCard key={shard.index} shard={shard} />
      ))}
    </Stack>
  );
}
