import { Alert, Button, Group, Modal, Stack, Switch, Text } from '@mantine/core';
import { useState } from 'react';
import { DEFAULT_RETENTION } from '../../../../shared/rollup';
import type { JobName, ScheduleEntry } from '../../../../shared/schedule';
import { failureText } from '../../api/failure';
import { useSetSchedule } from './use-schedules';

/** What is lost if a job stays off too long: catch-up never reaches further back than the source table keeps. */
const CONSEQUENCE: Record<JobName, string> = {
  'rollup-hourly': `No raw page views are rolled up into hours, so daily and monthly figures stop too. Raw rows are kept ${DEFAULT_RETENTION.rawHours} h: hours not rolled up by then are lost for good.`,
  'rollup-daily': `Hours are no longer rolled up into days, so monthly figures stop too. Hourly rows are kept ${DEFAULT_RETENTION.hourlyDays} days: days not rolled up by then are lost for good.`,
  'rollup-monthly': `Days are no longer rolled up into months. Daily rows are kept ${DEFAULT_RETENTION.dailyDays} days: months not rolled up by then are lost for good.`,
  reconcile: 'Late raw rows that arrive after the hourly re-roll window are no longer found and rolled up: hourly, daily and monthly totals stay short until a prune keeps those hours back.',
  maintenance: 'Future partitions are no longer added, so new rows pile up in the catch-all partition, and expired data is no longer pruned, so the tables keep growing.',
  backup: 'No scheduled backup is taken and old sets are no longer removed by backup retention: the newest backup of each shard grows older every day until someone runs strata backup run.',
};

/** Enabling is immediate; disabling a rollup is consequential, so it asks first. */
export function EnabledSwitch({ schedule }: { schedule: ScheduleEntry }) {
  const [confirming, setConfirming] = useState(false);
  const setSchedule = useSetSchedule();
  const testId = `enabled-${schedule.job}`;
  const store = (enabled: boolean) => setSchedule.mutate({ job: schedule.job, enabled }, { onSuccess: () => setConfirming(false) });
  const refusal = setSchedule.error ? failureText(setSchedule.error, 'the schedule') : undefined;
  return (
    <>
      <Switch
        checked={schedule.enabled}
        onChange={(event) => (event.currentTarget.checked ? store(true) : setConfirming(true))}
        disabled={setSchedule.isPending}
        color="teal"
        label={schedule.enabled ? 'enabled' : 'disabled'}
        data-testid={testId}
        styles={{ label: { color: schedule.enabled ? undefined : 'var(--mantine-color-orange-4)', fontWeight: schedule.enabled ? undefined : 600 } }}
      />
      {refusal && !confirming && (
        <Text size="xs" c="red.4" mt={4} data-testid={`${testId}-refusal`}>
          {refusal.line}
        </Text>
      )}
      <Modal opened={confirming} onClose={() => setConfirming(false)} title={<Text fw={700}>Disable {schedule.job}?</Text>} centered data-testid={`${testId}-confirm`}>
        <Stack gap="md">
          <Text size="sm">
            No scheduler will run <Text span ff="monospace" inherit>{schedule.job}</Text> until it is enabled again, on any host.
          </Text>
          <Alert color="orange" variant="light">
            {CONSEQUENCE[schedule.job]}
          </Alert>
          {refusal && (
            <Text size="sm" c="red.4">
              {refusal.line}
            </Text>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(false)} data-testid={`${testId}-keep`}>
              Keep it running
            </Button>
            <Button color="red" loading={setSchedule.isPending} onClick={() => store(false)} data-testid={`${testId}-disable`}>
              Disable {schedule.job}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
