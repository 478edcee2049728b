import { Button, Progress, SimpleGrid, Stack, Text } from '@mantine/core';
import type { BackfillProgress } from '../../../../shared/backfill';
import { stateColour } from '../../colours';
import { ProgressCard } from '../../components/ProgressCard';
import { formatCount, formatDuration, formatWindow } from '../../format';

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

/**
 * Live progress of one backfill, from the events the main process sends, with Cancel while it runs. Once it ended
 * the card names the last window it ran (the hook keeps it, since the final event carries none).
 */
export function BackfillProgressCard({ progress, received, onCancel, cancelling }: { progress: BackfillProgress; received: number; onCancel(): void; cancelling: boolean }) {
  const running = progress.state === 'running';
  const percent = progress.windowsTotal === 0 ? 100 : (progress.windowsDone / progress.windowsTotal) * 100;
  const window = progress.window ? `${progress.window.level} ${formatWindow(progress.window.level, progress.window.windowStart, progress.window.windowEnd)}` : undefined;
  return (
    <ProgressCard
      title={`Backfill ${progress.backfillId}`}
      state={progress.state}
      testId="backfill-progress"
      badgeTestId="progress-state"
      data={{ 'backfill-id': progress.backfillId, 'windows-done': progress.windowsDone, 'windows-total': progress.windowsTotal, events: received }}
      actions={
        running && (
          <Button color="red" variant="light" size="xs" onClick={onCancel} loading={cancelling} data-testid="progress-cancel">
            Cancel
          </Button>
        )
      }
    >
      <Progress value={percent} size="lg" radius="sm" animated={running} color={stateColour(progress.state)} />
      <SimpleGrid cols={5}>
        <Figure label="Windows" value={`${progress.windowsDone} / ${progress.windowsTotal}`} testId="progress-windows" />
        {window ? <Figure label={running ? 'Current window' : 'Last window'} value={window} testId="progress-window" /> : <div />}
        <Figure label="Rows read" value={formatCount(progress.rowsRead)} testId="progress-rows" />
        <Figure label="Elapsed" value={formatDuration(progress.elapsedMs)} testId="progress-elapsed" />
        {running ? <Figure label="Est. remaining" value={formatDuration(progress.estimatedRemainingMs)} testId="progress-remaining" /> : <div />}
      </SimpleGrid>
      {progress.error && (
        <Text size="sm" c={progress.state === 'failed' ? 'red.4' : 'dimmed'} data-testid="progress-error">
          {progress.error}
        </Text>
      )}
    </ProgressCard>
  );
}
