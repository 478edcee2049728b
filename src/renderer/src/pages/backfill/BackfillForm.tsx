import { Button, Checkbox, Group, Paper, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import { DateTimePicker } from '@mantine/dates';
import { ROLLUP_LEVELS, type RollupLevel } from '../../../../shared/rollup';
import type { BackfillRequest } from '../../../../shared/backfill';

/** A time as the pickers hold it: `YYYY-MM-DD HH:mm:ss`, read as UTC (Strata's windows start on UTC hours). */
export type UtcWallTime = string;

export interface BackfillFormValues {
  level: RollupLevel;
  from: UtcWallTime | null;
  to: UtcWallTime | null;
  /** Shard indexes separated by commas; empty means every shard. */
  shards: string;
  cascade: boolean;
}

const HOUR_MS = 3_600_000;

export function toUtcWallTime(epochMs: number): UtcWallTime {
  return new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ');
}

export function fromUtcWallTime(value: UtcWallTime): Date {
  return new Date(`${value.replace(' ', 'T')}Z`);
}

/** The last 24 whole hours: where a fresh sandbox or the demo has its traffic, so the first dry run finds rows. */
export function defaultValues(now: number): BackfillFormValues {
  const lastWholeHour = Math.floor(now / HOUR_MS) * HOUR_MS;
  return { level: 'hourly', from: toUtcWallTime(lastWholeHour - 24 * HOUR_MS), to: toUtcWallTime(lastWholeHour), shards: '', cascade: false };
}

/** The form as a request, or the reason it is not one yet (the main process checks everything again). */
export function toRequest(values: BackfillFormValues): { request: BackfillRequest } | { problem: string } {
  if (values.from === null || values.to === null) return { problem: 'pick both times: from and to' };
  const shardText = values.shards.trim();
  if (shardText !== '' && !/^\d+(\s*,\s*\d+)*$/.test(shardText)) return { problem: 'shards are indexes separated by commas, such as 0,2; leave empty for all' };
  const shards = shardText === '' ? undefined : shardText.split(',').map((part) => Number(part.trim()));
  return { request: { level: values.level, from: fromUtcWallTime(values.from).toISOString(), to: fromUtcWallTime(values.to).toISOString(), shards, cascade: values.cascade } };
}

function UtcPicker({ label, value, onChange, testId }: { label: string; value: UtcWallTime | null; onChange(value: UtcWallTime | null): void; testId: string }) {
  return (
    <DateTimePicker
      label={label}
      w={210}
      value={value}
      onChange={onChange}
      valueFormat="YYYY-MM-DD HH:mm"
      firstDayOfWeek={1}
      data-testid={testId}
      styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
      timePickerProps={{ hoursInputLabel: 'hours (UTC)', minutesInputLabel: 'minutes' }}
      submitButtonProps={{ 'aria-label': 'use this time' }}
    />
  );
}

export function BackfillForm({
  values,
  onChange,
  onDryRun,
  onStart,
  busy,
}: {
  values: BackfillFormValues;
  onChange(values: BackfillFormValues): void;
  onDryRun(): void;
  onStart(): void;
  busy: boolean;
}) {
  const set = (patch: Partial<BackfillFormValues>) => onChange({ ...values, ...patch });
  return (
    <Paper withBorder radius="md" p="md" data-testid="backfill-form">
      <Stack gap="sm">
        <Group align="flex-end" gap="md" wrap="wrap">
          <Stack gap={4}>
            <Text size="sm" fw={500}>
              Level
            </Text>
            <SegmentedControl
              value={values.level}
              onChange={(level) => set({ level: level as RollupLevel })}
              data={ROLLUP_LEVELS.map((level) => ({ value: level, label: level }))}
              data-testid="backfill-level"
            />
          </Stack>
          <UtcPicker label="From (UTC)" value={values.from} onChange={(from) => set({ from })} testId="backfill-from" />
          <UtcPicker label="To (UTC, exclusive)" value={values.to} onChange={(to) => set({ to })} testId="backfill-to" />
          <TextInput label="Shards" placeholder="all" w={120} value={values.shards} onChange={(event) => set({ shards: event.currentTarget.value })} data-testid="backfill-shards" />
          <Checkbox
            label="Cascade to days and months"
            checked={values.cascade}
            onChange={(event) => set({ cascade: event.currentTarget.checked })}
            mb={8}
            data-testid="backfill-cascade"
          />
        </Group>
        <Group gap="sm">
          <Button variant="default" onClick={onDryRun} loading={busy} data-testid="backfill-dry-run">
            Dry run
          </Button>
          <Button onClick={onStart} disabled={busy} data-testid="backfill-start">
            Start…
          </Button>
          <Text size="xs" c="dimmed">
            Whole windows covering the range are rebuilt, oldest first, shards in parallel. Cascade re-rolls the days and months above, each once its source is complete.
          </Text>
        </Group>
      </Stack>
    </Paper>
  );
}
