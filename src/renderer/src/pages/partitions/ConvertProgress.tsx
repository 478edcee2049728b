import { Progress, Stack, Table, Text } from '@mantine/core';
import type { ConversionReport, ShardConversionPlan, ShardConversionResult } from '../../../../shared/partitions';
import { formatCount, formatDuration } from '../../format';
import { describeSeconds } from './ConvertConfirm';
import type { ShardConversionProgress } from './use-partitions';
import { stateColour } from '../../colours';
import { ProblemLine } from '../../components/ProblemLine';
import { ProgressCard } from '../../components/ProgressCard';
import { StateBadge } from '../../components/StateBadge';

type ShardState = 'waiting' | 'running' | ShardConversionResult['outcome'];

const rowsText = (count: number | null | undefined) => (count === null || count === undefined ? '-' : formatCount(count));

/** Events give the live picture; the answer of the convert call completes it, should an event have been missed. */
function ShardLine({ target, live, final }: { target: ShardConversionPlan; live: ShardConversionProgress | undefined; final: ShardConversionResult | undefined }) {
  const result = live?.result ?? final;
  const state: ShardState = result ? result.outcome : live ? 'running' : 'waiting';
  const rowsBefore = result?.rowsBefore ?? live?.rowsBefore ?? null;
  const percent = result ? (result.outcome === 'converted' ? 100 : 0) : (live?.percent ?? 0);
  return (
    <Table.Tr data-testid={`convert-shard-${target.index}`} data-state={state}>
      <Table.Td w={110} fw={600}>
        {target.name}
      </Table.Td>
      <Table.Td w={170}>
        <StateBadge state={state} miw={96} />
      </Table.Td>
      <Table.Td w={280}>
        <Stack gap={4}>
          <Text size="xs" ff="monospace" data-testid="convert-stage">
            {result
              ? `took ${formatDuration(result.elapsedMs)}`
              : live
                ? `${live.percent === null ? 'progress not reported' : `${live.percent.toFixed(1)} %`}${live.stage ? ` · ${live.stage}` : ''}${live.estimatedSeconds !== undefined ? ` · estimated ${describeSeconds(live.estimatedSeconds)}` : ''}`
                : 'waiting for the partition lock'}
          </Text>
          <Progress value={percent} color={stateColour(state)} animated={state === 'running'} size="sm" />
        </Stack>
      </Table.Td>
      <Table.Td>
        {rowsBefore !== null && (
          <Text size="sm" data-testid="convert-rows">
            {rowsText(rowsBefore)} rows before, {rowsText(result?.rowsAfter)} after
          </Text>
        )}
        {result?.outcome === 'already-partitioned' && (
          <Text size="sm" c="dimmed">
            already partitioned; nothing was done
          </Text>
        )}
        {result?.problem && <ProblemLine problem={result.problem} color={result.outcome === 'blocked' || result.outcome === 'cancelled' ? 'orange.4' : 'red.4'} testId="convert-problem" />}
      </Table.Td>
    </Table.Tr>
  );
}

/** One line per shard being converted: the ALTER's stage and percent while it runs, the row counts once it ended. */
export function ConvertProgress({
  table,
  targets,
  byShard,
  received,
  report,
  running,
  refused,
}: {
  table: string;
  targets: readonly ShardConversionPlan[];
  byShard: ReadonlyMap<number, ShardConversionProgress>;
  received: number;
  report: ConversionReport | undefined;
  running: boolean;
  /** The convert call itself was refused (the reason is shown next to this card). */
  refused: boolean;
}) {
  const state = running ? 'running' : refused || report?.ok === false ? 'failed' : 'done';
  const title = { running: `Converting ${table}…`, failed: `${table}: conversion did not complete everywhere`, done: `${table} converted into partitions` }[state];
  return (
    <ProgressCard title={title} state={state} testId="convert-progress" data={{ events: received }}>
      <Table fz="sm" verticalSpacing={6} horizontalSpacing="md">
        <Table.Tbody>
          {targets.map((target) => (
            <ShardLine key={target.index} target={target} live={byShard.get(target.index)} final={report?.shards.find((shard) => shard.index === target.index)} />
          ))}
        </Table.Tbody>
      </Table>
    </ProgressCard>
  );
}
