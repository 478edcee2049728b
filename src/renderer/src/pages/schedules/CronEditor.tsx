import { Button, Group, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import type { ScheduleEntry } from '../../../../shared/schedule';
import { failureText } from '../../api/failure';
import { formatUtc } from '../../format';
import { previewNextRuns } from './next-runs';
import { useSetSchedule } from './use-schedules';

/** What the draft would do, worked out as it is typed; the scheduler still checks it on Save. */
function DraftPreview({ draft, stored, testId }: { draft: string; stored: string; testId: string }) {
  if (draft.trim() === stored) return null;
  const runs = previewNextRuns(draft, new Date());
  return (
    <Text size="xs" c="dimmed" mt={4} data-testid={testId}>
      {runs === undefined
        ? 'no preview for this expression; Save asks the scheduler'
        : runs.length === 0
          ? 'this expression never matches'
          : <>next runs of the draft: <Text span ff="monospace" inherit>{runs.map((run) => formatUtc(run.toISOString()).slice(5)).join(' · ')}</Text></>}
    </Text>
  );
}

/**
 * The cron cell: the stored expression with an Edit button, or an input that saves through `schedules:set`.
 * The main process validates the expression; a refusal is shown under the input and nothing is stored.
 */
export function CronEditor({ schedule }: { schedule: ScheduleEntry }) {
  const [draft, setDraft] = useState<string | undefined>(undefined);
  const setSchedule = useSetSchedule();
  const testId = `cron-${schedule.job}`;

  if (draft === undefined) {
    return (
      <Group gap="sm" wrap="nowrap">
        <Text ff="monospace" fw={600} size="sm" data-testid={`${testId}-value`}>
          {schedule.cron}
        </Text>
        <Button size="compact-xs" variant="subtle" onClick={() => setDraft(schedule.cron)} data-testid={`${testId}-edit`}>
          Edit
        </Button>
      </Group>
    );
  }

  const save = () =>
    setSchedule.mutate(
      { job: schedule.job, cron: draft },
      {
        onSuccess: () => {
          setDraft(undefined);
          setSchedule.reset();
        },
      },
    );
  // Cancelling drops the draft and any refusal; the stored expression was never touched.
  const cancel = () => {
    setDraft(undefined);
    setSchedule.reset();
  };
  const refusal = setSchedule.error ? failureText(setSchedule.error, 'the schedule') : undefined;
  return (
    <form
      style={{ maxWidth: 400 }}
      onSubmit={(event) => {
        event.preventDefault();
        save();
      }}
    >
      <Group gap="xs" align="flex-start" wrap="nowrap">
        <TextInput
          size="xs"
          w={220}
          ff="monospace"
          value={draft}
          onChange={(event) => {
            setDraft(event.currentTarget.value);
            // A refusal is about the text that was sent: once the draft changes it no longer applies.
            if (setSchedule.error) setSchedule.reset();
          }}
          onKeyDown={(event) => event.key === 'Escape' && cancel()}
          error={refusal !== undefined}
          aria-label={`cron expression of ${schedule.job}`}
          data-testid={`${testId}-input`}
          autoFocus
          styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
        />
        <Button size="xs" type="submit" loading={setSchedule.isPending} disabled={draft.trim() === ''} data-testid={`${testId}-save`}>
          Save
        </Button>
        <Button size="xs" variant="default" onClick={cancel} data-testid={`${testId}-cancel`}>
          Cancel
        </Button>
      </Group>
      {refusal && (
        <Text size="xs" c="red.4" mt={6} data-testid={`${testId}-refusal`}>
          <Text span fw={700} inherit>
            {refusal.title}
          </Text>
          {refusal.line.slice(refusal.title.length)}
        </Text>
      )}
      {!refusal && <DraftPreview draft={draft} stored={schedule.cron} testId={`${testId}-preview`} />}
      <Text size="xs" c="dimmed" mt={4}>
        minute hour day-of-month month day-of-week, UTC · stored <Text span ff="monospace" inherit style={{ whiteSpace: 'nowrap' }}>{schedule.cron}</Text>
      </Text>
    </form>
  );
}
