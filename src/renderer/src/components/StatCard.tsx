import { Paper, Text } from '@mantine/core';
import type { ReactNode } from 'react';

/** One figure with a label and up to two lines of detail; `alert` colours the figure when it needs attention. */
export function StatCard({ label, value, detail, alert, testId }: { label: string; value: ReactNode; detail: ReactNode; alert?: 'red' | 'orange'; testId?: string }) {
  return (
    <Paper withBorder radius="md" px="md" py="sm" data-testid={testId}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600} lts={0.5}>
        {label}
      </Text>
      <Text size="xl" fw={700} ff="monospace" c={alert ? `${alert}.5` : undefined} truncate>
        {value}
      </Text>
      <Text size="xs" c="dimmed" lineClamp={2} component="div" title={typeof detail === 'string' ? detail : undefined}>
        {detail}
      </Text>
    </Paper>
  );
}
