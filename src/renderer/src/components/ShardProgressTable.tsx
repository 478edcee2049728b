import { Progress, Stack, Table } from '@mantine/core';
import type { ReactNode } from 'react';
import { stateColour, type ConsoleState } from '../colours';
import { StateBadge } from './StateBadge';

/** The table of a live operation's lines inside a ProgressCard, one ShardProgressRow each. */
export function ShardProgressTable({ children }: { children: ReactNode }) {
  return (
    <Table fz="sm" verticalSpacing={6} horizontalSpacing="md">
      <Table.Tbody>{children}</Table.Tbody>
    </Table>
  );
}

interface ShardProgressRowProps {
  /** The shard's name, first on the line. */
  name: string;
  state: ConsoleState;
  /** The badge's words when they are not the state itself; the row's `data-state` then says them too. */
  label?: string;
  /** How full the bar is, 0 to 100. */
  percent: number;
  /** Striped while running, for work whose share done is not known until it answers. */
  striped?: boolean;
  testId: string;
  /** More `data-*` attributes of the row for tests (counts, positions). */
  data?: Record<string, string | number>;
  /** A cell between the name and the badge, for a line that is one part of a shard (a table). */
  subject?: ReactNode;
  /** A line above the bar (such as "statement 3 of 8"). */
  meter?: ReactNode;
  /** What the line says: figures, the current item, errors. */
  children: ReactNode;
}

/** One line of live progress: the shard, its state's badge, a bar in the state's colour and what it is doing. */
export function ShardProgressRow({ name, state, label, percent, striped, testId, data = {}, subject, meter, children }: ShardProgressRowProps) {
  const attributes = Object.fromEntries(Object.entries(data).map(([key, value]) => [`data-${key}`, value]));
  const bar = <Progress value={percent} color={stateColour(state)} animated={state === 'running'} striped={striped} size="sm" />;
  return (
    <Table.Tr data-testid={testId} data-state={label ?? state} {...attributes}>
      <Table.Td w={110} fw={600}>
        {name}
      </Table.Td>
      {subject}
      <Table.Td w={120}>
        <StateBadge state={state} label={label} miw={96} />
      </Table.Td>
      <Table.Td w={260}>
        {meter ? (
          <Stack gap={4}>
            {meter}
            {bar}
          </Stack>
        ) : (
          bar
        )}
      </Table.Td>
      <Table.Td>{children}</Table.Td>
    </Table.Tr>
  );
}
