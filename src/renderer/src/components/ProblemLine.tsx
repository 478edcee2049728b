import { Text } from '@mantine/core';
import { describeErrorCode } from '../errors';

interface ProblemLineProps {
  /** Absent when a part is down without saying why; `missing` is shown instead. */
  problem: { code: number; message: string } | undefined;
  missing?: string;
  color?: string;
  size?: 'xs' | 'sm';
  testId?: string;
}

/** `Shard unreachable — shard1 (127.0.0.1:3307): connection refused`: the code in words, then the message. */
export function ProblemLine({ problem, missing = 'Down', color = 'red.4', size = 'sm', testId }: ProblemLineProps) {
  return (
    <Text size={size} c={color} data-testid={testId} style={{ whiteSpace: 'normal' }}>
      <Text span fw={700} inherit>
        {problem ? describeErrorCode(problem.code) : missing}
      </Text>
      {problem ? ` — ${problem.message}` : ''}
    </Text>
  );
}
