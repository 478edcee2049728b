import { Alert, List, Text } from '@mantine/core';
import type { ClusterStatus } from '../../../../shared/contract';
import { describeErrorCode } from '../../errors';

/** Everything wrong, most serious first: parts that are down, then the warnings about parts that are up. */
function problemsOf(status: ClusterStatus): string[] {
  const down = status.shards
    .filter((shard) => !shard.reachable)
    .map((shard) => `${shard.name} is DOWN: ${shard.problem ? describeErrorCode(shard.problem.code).toLowerCase() : 'no answer'}`);
  if (!status.redis.reachable) down.push(`Redis is DOWN: ${status.redis.problem ? describeErrorCode(status.redis.problem.code).toLowerCase() : 'no answer'}`);
  return [...down, ...status.warnings];
}

export function HealthBanner({ status }: { status: ClusterStatus }) {
  const problems = problemsOf(status);
  const upCount = status.shards.filter((shard) => shard.reachable).length;
  const summary = `${upCount} of ${status.shards.length} shards up, Redis ${status.redis.reachable ? 'up' : 'down'}`;
  return (
    <Alert
      data-testid="health-banner"
      data-health={status.healthy ? 'healthy' : 'unhealthy'}
      color={status.healthy ? (problems.length ? 'yellow' : 'teal') : 'red'}
      variant={status.healthy ? 'light' : 'filled'}
      radius="md"
      title={status.healthy ? `Cluster healthy — ${summary}` : `Cluster not healthy — ${summary}`}
    >
      {problems.length === 0 ? (
        <Text size="sm">Every shard answers and has the Strata schema; Redis answers.</Text>
      ) : (
        <List size="sm" spacing={2} data-testid="health-problems">
          {problems.map((problem) => (
            <List.Item key={problem}>{problem}</List.Item>
          ))}
        </List>
      )}
    </Alert>
  );
}
