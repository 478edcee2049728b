import { Button, Group, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import type { ScheduleEntry } from '../../../../shared/schedule';
import { failureText } from '../../api/failure';
import { useSetSchedule } from './use-schedules';

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
          onChange={(event) => setDraft(event.currentTarget.value)}
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
            {refusal.title}:
          </Text>{' '}
          {refusal.message}
        </Text>
      )}
      <Text size="xs" c="dimmed" mt={4}>
        minute hour day-of-month month day-of-week, UTC · stored <Text span ff="monospace" inherit style={{ whiteSpace: 'nowrap' }}>{schedule.cron}</Text>
      </Text>
    </form>
  );
}
