import { Text } from '@mantine/core';
import { describeErrorCode } from '../../errors';

export function ProblemText({ problem, testId }: { problem: { code: number; message: string } | undefined; testId: string }) {
  return (
    <Text data-testid={testId} size="sm" c="red.4">
      <Text span fw={600} inherit>
        {problem ? describeErrorCode(problem.code) : 'Down'}
      </Text>
      {problem ? ` — ${problem.message}` : ''}
    </Text>
  );
}
