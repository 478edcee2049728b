import { Button, Checkbox, Group, Paper, SegmentedControl, Stack, Text, TextInput } from '@mantine/core';
import { ROLLUP_LEVELS, type RollupLevel } from '../../../../shared/rollup';
import type { BackfillRequest } from '../../../../shared/backfill';

export interface BackfillFormValues {
  level: RollupLevel;
  from: string;
  to: string;
  /** Shard indexes separated by commas; empty means every shard. */
  shards: string;
  cascade: boolean;
}

/** The form as a request, or the reason it is not one yet (the main process checks everything again). */
export function toRequest(values: BackfillFormValues): { request: BackfillRequest } | { problem: string } {
  if (Number.isNaN(Date.parse(values.from)) || Number.isNaN(Date.parse(values.to))) return { problem: 'from and to must be ISO-8601 UTC times, such as 2025-03-01T00:00:00Z' };
  const shardText = values.shards.trim();
  if (shardText !== '' && !/^\d+(\s*,\s*\d+)*$/.test(shardText)) return { problem: 'shards are indexes separated by commas, such as 0,2; leave empty for all' };
  const shards = shardText === '' ? undefined : shardText.split(',').map((part) => Number(part.trim()));
  return { request: { level: values.level, from: new Date(values.from).toISOString(), to: new Date(values.to).toISOString(), shards, cascade: values.cascade } };
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
          <TextInput label="From (UTC)" w={230} ff="monospace" value={values.from} onChange={(event) => set({ from: event.currentTarget.value })} data-testid="backfill-from" />
          <TextInput label="To (UTC, exclusive)" w={230} ff="monospace" value={values.to} onChange={(event) => set({ to: event.currentTarget.value })} data-testid="backfill-to" />
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
