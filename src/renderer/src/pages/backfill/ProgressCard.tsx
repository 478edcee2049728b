import { Badge, Button, Group, Paper, Progress, SimpleGrid, Stack, Text } from '@mantine/core';
import type { BackfillProgress, BackfillState } from '../../../../shared/backfill';
import { formatCount, formatDuration, formatWindow } from '../../format';

export const STATE_COLOUR: Record<BackfillState, string> = { running: 'blue', cancelling: 'yellow', interrupted: 'orange', done: 'teal', cancelled: 'gray', failed: 'red' };

function Figure({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600} lts={0.5}>
        {label}
      </Text>
      <Text ff="monospace" fw={600} data-testid={testId}>
        {value}
      </Text>
    </Stack>
  );
}

/** Live progress of one backfill, from the events the main process sends, with Cancel while it runs. */
export function ProgressCard({ progress, received, onCancel, cancelling }: { progress: BackfillProgress; received: number; onCancel(): void; cancelling: boolean }) {
  const running = progress.state === 'running';
  const percent = progress.windowsTotal === 0 ? 100 : (progress.windowsDone / progress.windowsTotal) * 100;
  const current = progress.window ? `${progress.window.level} ${formatWindow(progress.window.level, progress.window.windowStart, progress.window.windowEnd)}` : '—';
  return (
    <Paper
      withBorder
      radius="md"
      p="md"
      data-testid="backfill-progress"
      data-backfill-id={progress.backfillId}
      data-state={progress.state}
      data-windows-done={progress.windowsDone}
      data-windows-total={progress.windowsTotal}
      data-events={received}
    >
      <Stack gap="sm">
        <Group justify="space-between">
          <Group gap="sm">
            <Text fw={700}>Backfill {progress.backfillId}</Text>
            <Badge color={STATE_COLOUR[progress.state]} variant={running ? 'light' : 'filled'} tt="none" radius="sm" data-testid="progress-state">
              {progress.state}
            </Badge>
          </Group>
          {running && (
            <Button color="red" variant="light" size="xs" onClick={onCancel} loading={cancelling} data-testid="progress-cancel">
              Cancel
            </Button>
          )}
        </Group>
        <Progress value={percent} size="lg" radius="sm" animated={running} color={STATE_COLOUR[progress.state]} />
        <SimpleGrid cols={5}>
          <Figure label="Windows" value={`${progress.windowsDone} / ${progress.windowsTotal}`} testId="progress-windows" />
          <Figure label={running ? 'Current window' : 'Last window'} value={current} testId="progress-window" />
          <Figure label="Rows read" value={formatCount(progress.rowsRead)} testId="progress-rows" />
          <Figure label="Elapsed" value={formatDuration(progress.elapsedMs)} testId="progress-elapsed" />
          <Figure label="Est. remaining" value={running ? formatDuration(progress.estimatedRemainingMs) : '—'} testId="progress-remaining" />
        </SimpleGrid>
        {progress.error && (
          <Text size="sm" c={progress.state === 'failed' ? 'red.4' : 'dimmed'} data-testid="progress-error">
            {progress.error}
          </Text>
        )}
      </Stack>
    </Paper>
  );
}
