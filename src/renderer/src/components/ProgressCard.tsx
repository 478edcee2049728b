import { Group, Paper, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import type { ConsoleState } from '../colours';
import { StateBadge } from './StateBadge';

interface ProgressCardProps {
  title: ReactNode;
  state: ConsoleState;
  /** `data-testid` of the card; `data` adds `data-*` attributes (state, counts) for tests and styles. */
  testId: string;
  data?: Record<string, string | number>;
  badgeTestId?: string;
  /** Controls at the right of the header, such as Cancel. */
  actions?: ReactNode;
  children: ReactNode;
}

/** The frame of every live operation: a title with the state's badge (and any controls), then the progress itself. */
export function ProgressCard({ title, state, testId, data = {}, badgeTestId, actions, children }: ProgressCardProps) {
  const attributes = Object.fromEntries(Object.entries(data).map(([name, value]) => [`data-${name}`, value]));
  return (
    <Paper withBorder radius="md" p="md" data-testid={testId} data-state={state} {...attributes}>
      <Stack gap="sm">
        <Group justify="space-between">
          <Group gap="sm">
            <Text fw={700}>{title}</Text>
            <StateBadge state={state} testId={badgeTestId} />
          </Group>
          {actions}
        </Group>
        {children}
      </Stack>
    </Paper>
  );
}
