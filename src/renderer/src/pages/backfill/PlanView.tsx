import { Alert, Badge, Group, Paper, ScrollArea, Stack, Table, Text, Tooltip } from '@mantine/core';
import type { BackfillPlan } from '../../../../shared/backfill';
import { SectionTitle } from '../../components/SectionTitle';
import { formatCount, formatDuration, formatUtc, formatWindow } from '../../format';
import { LevelBadge } from '../jobs/LevelBadge';

const numeric = { ta: 'right', ff: 'monospace' } as const;

/** Why a window is in the plan, in the words a DBA would use. */
const KIND_HINT = {
  range: 'asked for: the window lies in the range you gave',
  cascade: 'cascade: a day or month above a rebuilt window, re-rolled so its totals take in the new figures',
} as const;

/** The dry run: every window with its estimated source rows and time, the refused ranges, and where estimates come from. */
export function PlanView({ plan }: { plan: BackfillPlan }) {
  return (
    <Stack gap={6} data-testid="backfill-plan" data-windows={plan.windows.length} data-refused={plan.refused.length}>
      <SectionTitle
        right={
          <Text size="sm" data-testid="plan-totals">
            {plan.windows.length} windows · ~{formatCount(plan.estimatedSourceRows)} source rows · ~{formatDuration(plan.estimatedMs)}
          </Text>
        }
      >
        Dry run
      </SectionTitle>
      {plan.refused.length > 0 && (
        <Alert color="red" variant="light" title="Refused: the source of these windows was pruned" data-testid="refused-ranges">
          <Table fz="sm" verticalSpacing={4}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Level</Table.Th>
                <Table.Th>Range (UTC)</Table.Th>
                <Table.Th>Can be rebuilt from</Table.Th>
                <Table.Th>Why</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {plan.refused.map((range) => (
                <Table.Tr key={`${range.level}-${range.from}`} data-testid="refused-range" data-rebuild-from={range.rebuildFrom ?? 'none'}>
                  <Table.Td>
                    <LevelBadge level={range.level} />
                  </Table.Td>
                  <Table.Td ff="monospace" style={{ whiteSpace: 'nowrap' }}>
                    {formatUtc(range.from)} – {formatUtc(range.to)}
                  </Table.Td>
                  <Table.Td fw={600}>{range.rebuildFrom ?? 'nothing'}</Table.Td>
                  <Table.Td>{range.message}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Alert>
      )}
      {plan.problems.map((problem) => (
        <Alert key={problem.shard} color="orange" variant="light" title={`shard ${problem.shard} cannot be planned`}>
          {problem.message}
        </Alert>
      ))}
      <Paper withBorder radius="md">
        <ScrollArea.Autosize mah={360} type="auto">
          <Table fz="sm" verticalSpacing={6} horizontalSpacing="md" stickyHeader>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Level</Table.Th>
                <Table.Th>Window (UTC)</Table.Th>
                <Table.Th>
                  <Tooltip label={`${KIND_HINT.range}; ${KIND_HINT.cascade}`} multiline w={320} openDelay={200}>
                    <span style={{ textDecoration: 'underline dotted', cursor: 'help' }}>Why rebuilt</span>
                  </Tooltip>
                </Table.Th>
                <Table.Th ta="right">Est. source rows</Table.Th>
                <Table.Th ta="right">Est. time</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {plan.windows.map((window) => (
                <Table.Tr key={`${window.level}-${window.windowStart}`} data-testid="plan-window" data-level={window.level} data-window-start={window.windowStart}>
                  <Table.Td>
                    <LevelBadge level={window.level} />
                  </Table.Td>
                  <Table.Td ff="monospace">{formatWindow(window.level, window.windowStart, window.windowEnd)}</Table.Td>
                  <Table.Td>
                    <Tooltip label={KIND_HINT[window.kind]} openDelay={200}>
                      <Badge variant="outline" color={window.kind === 'range' ? 'blue' : 'grape'} tt="none" radius="sm">
                        {window.kind === 'range' ? 'asked for' : 'cascade'}
                      </Badge>
                    </Tooltip>
                  </Table.Td>
                  <Table.Td {...numeric}>{formatCount(window.estimatedSourceRows)}</Table.Td>
                  <Table.Td {...numeric}>{formatDuration(window.estimatedMs)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollArea.Autosize>
      </Paper>
      <Group gap="lg">
        {Object.entries(plan.estimates).map(([level, estimate]) => (
          <Text key={level} size="xs" c="dimmed" data-testid={`estimate-${level}`} data-basis={estimate.basis}>
            {level}: {estimate.note}
          </Text>
        ))}
      </Group>
    </Stack>
  );
}
