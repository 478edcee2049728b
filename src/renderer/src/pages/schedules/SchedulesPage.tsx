import { Badge, Center, Loader, Paper, Stack, Table, Text } from '@mantine/core';
import { jobDefinition, type ScheduleEntry } from '../../../../shared/schedule';
import { LiveIndicator } from '../../components/LiveIndicator';
import { QueryFailure } from '../../components/QueryFailure';
import { SectionTitle } from '../../components/SectionTitle';
import { formatRelative, formatUtc } from '../../format';
import { useNow } from '../../hooks/use-now';
import { CronEditor } from './CronEditor';
import { EnabledSwitch } from './EnabledSwitch';
import { useSchedules } from './use-schedules';
import { PageHeader } from '../../components/PageHeader';

function NextRuns({ schedule, now }: { schedule: ScheduleEntry; now: number }) {
  if (schedule.nextRuns.length === 0) return <Text size="sm" c="dimmed">never</Text>;
  return (
    <Stack gap={0} data-testid={`next-runs-${schedule.job}`} opacity={schedule.enabled ? 1 : 0.45}>
      {schedule.nextRuns.map((run) => (
        <Text key={run} size="sm" ff="monospace" data-testid="next-run" style={{ whiteSpace: 'nowrap' }}>
          {formatUtc(run)}{' '}
          <Text span c="dimmed" inherit>
            ({formatRelative(run, now)})
          </Text>
        </Text>
      ))}
    </Stack>
  );
}

function LastChange({ schedule }: { schedule: ScheduleEntry }) {
  if (schedule.isDefault) {
    return (
      <Badge variant="light" color="gray" tt="none" radius="sm" style={{ flexShrink: 0 }} miw={110}>
        built-in default
      </Badge>
    );
  }
  return (
    <Stack gap={0} style={{ whiteSpace: 'nowrap' }}>
      <Text size="sm">{schedule.changedBy ?? 'unknown'}</Text>
      <Text size="xs" c="dimmed" ff="monospace">
        {schedule.changedAt ? `${formatUtc(schedule.changedAt, 'second')} UTC` : ''}
      </Text>
    </Stack>
  );
}

function ScheduleRow({ schedule, now }: { schedule: ScheduleEntry; now: number }) {
  return (
    <Table.Tr data-testid={`schedule-${schedule.job}`} data-enabled={schedule.enabled} bg={schedule.enabled ? undefined : 'var(--mantine-color-orange-light)'}>
      <Table.Td>
        <Text fw={600} ff="monospace" size="sm" style={{ whiteSpace: 'nowrap' }}>
          {schedule.job}
        </Text>
        <Text size="xs" c="dimmed">
          {jobDefinition(schedule.job).description}
        </Text>
      </Table.Td>
      <Table.Td>
        <CronEditor schedule={schedule} />
        {schedule.cron !== schedule.defaultCron && (
          <Text size="xs" c="dimmed" mt={2}>
            default <Text span ff="monospace" inherit>{schedule.defaultCron}</Text>
          </Text>
        )}
      </Table.Td>
      <Table.Td>
        <EnabledSwitch schedule={schedule} />
      </Table.Td>
      <Table.Td>
        <NextRuns schedule={schedule} now={now} />
      </Table.Td>
      <Table.Td>
        <LastChange schedule={schedule} />
      </Table.Td>
    </Table.Tr>
  );
}

/** Every scheduled job: its cron (editable, validated by the main process), on/off, next runs and last change. */
export function SchedulesPage() {
  const { data, error, isPending, dataUpdatedAt } = useSchedules();
  const now = useNow(5000);
  const disabled = data?.schedules.filter((schedule) => !schedule.enabled) ?? [];
  return (
    <Stack gap="lg" data-testid="page-schedules">
      <PageHeader title="Schedules" subtitle="When the scheduler holding the cluster lease runs each job · cron read in UTC · changes apply to every scheduler within 30 s">
        {dataUpdatedAt > 0 && <LiveIndicator testId="schedules-updated" updatedAt={dataUpdatedAt} failing={error !== null} />}
      </PageHeader>
      {error && <QueryFailure testId="schedules-error" error={error} what="the schedules" stale={data !== undefined} />}
      {disabled.length > 0 && (
        <Paper withBorder radius="md" px="md" py="sm" bg="var(--mantine-color-orange-light)" data-testid="disabled-banner">
          <Text size="sm" fw={600} c="orange.3">
            {disabled.map((schedule) => schedule.job).join(', ')} {disabled.length === 1 ? 'is' : 'are'} disabled: {disabled.length === 1 ? 'it does' : 'they do'} not run on schedule or catch up.
          </Text>
        </Paper>
      )}
      {isPending && (
        <Center h={200}>
          <Loader size="sm" />
        </Center>
      )}
      {data && (
        <Stack gap={6}>
          <SectionTitle>Jobs</SectionTitle>
          <Paper withBorder radius="md" data-testid="schedule-table">
            <Table.ScrollContainer minWidth={980} type="native">
              <Table verticalSpacing={10} horizontalSpacing="md" fz="sm">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Job</Table.Th>
                    <Table.Th>Cron (UTC)</Table.Th>
                    <Table.Th>Scheduled</Table.Th>
                    <Table.Th>Next runs (UTC)</Table.Th>
                    <Table.Th>Last changed</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {data.schedules.map((schedule) => (
                    <ScheduleRow key={schedule.job} schedule={schedule} now={now} />
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          </Paper>
        </Stack>
      )}
    </Stack>
  );
}
