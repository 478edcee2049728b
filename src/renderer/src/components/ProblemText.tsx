import { Text } from '@mantine/core';
import { describeErrorCode } from '../errors';

/** `Shard unreachable — shard1 (127.0.0.1:3307): connection refused`: the code in words, then the message. */
export function ProblemText({ problem, color = 'red.4', testId }: { problem: { code: number; message: string }; color?: string; testId?: string }) {
  return (
    <Text size="sm" c={color} data-testid={testId}>
      <Text span fw={700} inherit>
        {describeErrorCode(problem.code)}
      </Text>{' '}
      — {problem.message}
    </Text>
  );
}
