import { Text } from '@mantine/core';
import type { PartitionApplyReport, ShardPartitionApplyResult, ShardPlan } from '../../../../shared/partitions';
import { shardStatements } from './PartitionPlanView';
import type { ShardApplyProgress } from './use-partitions';
import { ProblemLine } from '../../components/ProblemLine';
import { ProgressCard } from '../../components/ProgressCard';
import { ShardProgressRow, ShardProgressTable } from '../../components/ShardProgressTable';

type ShardState = 'waiting' | 'running' | ShardPartitionApplyResult['outcome'];

interface ShardLine {
  index: number;
  name: string;
  state: ShardState;
  done: number;
  total: number;
  position: number;
  sql?: string;
  failures: Array<{ table: string; message: string }>;
  problem?: { code: number; message: string };
}

/** Events give the live picture; the answer of the apply call completes it, should an event have been missed. */
function shardLine(target: ShardPlan, live: ShardApplyProgress | undefined, final: ShardPartitionApplyResult | undefined): ShardLine {
  const result = live?.result ?? final;
  const failedStatements = result?.statements.filter((statement) => !statement.ok).map((statement) => ({ table: statement.table, message: statement.problem?.message ?? 'failed' }));
  return {
    index: target.index,
    name: target.name,
    state: result ? result.outcome : live ? 'running' : 'waiting',
    done: result ? result.statements.length : (live?.finished ?? 0),
    // A blocked or unreachable shard ran nothing: its total stays what the plan had for it.
    total: result ? result.statements.length || (result.outcome === 'up-to-date' ? 0 : shardStatements(target)) : live?.total || shardStatements(target),
    position: live?.position ?? 0,
    sql: result ? undefined : live?.sql,
    failures: failedStatements ?? live?.failures ?? [],
    problem: result?.problem,
  };
}

export function ApplyProgress({
  targets,
  byShard,
  received,
  report,
  running,
  refused,
}: {
  targets: readonly ShardPlan[];
  byShard: ReadonlyMap<number, ShardApplyProgress>;
  received: number;
  report: PartitionApplyReport | undefined;
  running: boolean;
  /** The apply call itself was refused (the reason is shown next to this card). */
  refused: boolean;
}) {
  const lines = targets.map((target) => shardLine(target, byShard.get(target.index), report?.shards.find((shard) => shard.index === target.index)));
  const state = running ? 'running' : refused || report?.ok === false || lines.some((line) => line.state === 'failed') ? 'failed' : lines.some((line) => line.state === 'blocked') ? 'blocked' : 'done';
  const title = { running: 'Applying partition changes…', failed: 'Applied with failures', blocked: 'Applied where allowed; some shards were blocked', done: 'Partition changes applied' }[state];
  return (
    <ProgressCard title={title} state={state} testId="partition-progress" data={{ events: received }}>
      <ShardProgressTable>
        {lines.map((line) => (
          <ShardProgressRow
            key={line.index}
            name={line.name}
            state={line.state}
            percent={line.total === 0 ? (line.state === 'waiting' || line.state === 'running' ? 0 : 100) : (line.done / line.total) * 100}
            testId={`progress-shard-${line.index}`}
            data={{ done: line.done, total: line.total }}
            meter={
              <Text size="xs" ff="monospace" data-testid="progress-statements">
                {line.state === 'running' ? `statement ${line.position} of ${line.total}` : `${line.done} of ${line.total} statements`}
              </Text>
            }
          >
            {line.sql && (
              <Text size="xs" ff="monospace" c="dimmed" lineClamp={1} title={line.sql}>
                {line.sql}
              </Text>
            )}
            {line.state === 'blocked' && (
              <Text size="sm" c="orange.4" data-testid="progress-blocked">
                blocked: {line.problem?.message ?? 'another job holds this shard'}
              </Text>
            )}
            {line.state !== 'blocked' && line.problem && <ProblemLine problem={line.problem} testId="progress-problem" />}
            {line.failures.map((failure) => (
              <Text key={`${failure.table}-${failure.message}`} size="sm" c="red.4" data-testid="progress-failure">
                {failure.message}
              </Text>
            ))}
            {line.state === 'up-to-date' && (
              <Text size="sm" c="dimmed">
                nothing needed adding
              </Text>
            )}
          </ShardProgressRow>
        ))}
      </ShardProgressTable>
    </ProgressCard>
  );
}
