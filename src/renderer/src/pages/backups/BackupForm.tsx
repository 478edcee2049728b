import { Button, Checkbox, Group, Paper, Stack, Text, TextInput } from '@mantine/core';
import { BACKUP_RAW_TABLE, BACKUP_TABLE_CHOICES, type BackupRequest, type BackupTableChoice } from '../../../../shared/backup';

export interface BackupFormValues {
  /** Shard indexes separated by commas; empty means every shard. */
  shards: string;
  tables: BackupTableChoice[];
  includeRaw: boolean;
}

export const TABLE_CHOICES = Object.keys(BACKUP_TABLE_CHOICES) as BackupTableChoice[];
export const DEFAULT_FORM: BackupFormValues = { shards: '', tables: [...TABLE_CHOICES], includeRaw: false };

/** The form as a request, or the reason it is not one yet (the main process checks everything again). */
export function toBackupRequest(values: BackupFormValues): { request: BackupRequest } | { problem: string } {
  const shardText = values.shards.trim();
  if (shardText !== '' && !/^\d+(\s*,\s*\d+)*$/.test(shardText)) return { problem: 'shards are indexes separated by commas, such as 0,2; leave empty for all' };
  if (values.tables.length === 0) return { problem: 'choose at least one aggregate table' };
  const shards = shardText === '' ? undefined : shardText.split(',').map((part) => Number(part.trim()));
  return { request: { ...(shards ? { shards } : {}), tables: values.tables, includeRaw: values.includeRaw, dryRun: false } };
}

export function BackupForm({
  values,
  onChange,
  onDryRun,
  onBackUp,
  busy,
  problem,
}: {
  values: BackupFormValues;
  onChange(values: BackupFormValues): void;
  onDryRun(): void;
  onBackUp(): void;
  busy: boolean;
  problem?: string;
}) {
  const set = (patch: Partial<BackupFormValues>) => onChange({ ...values, ...patch });
  return (
    <Paper withBorder radius="md" p="md" data-testid="backup-form">
      <Stack gap="sm">
        <Group align="flex-end" gap="md" wrap="wrap">
          <TextInput label="Shards" placeholder="all" w={120} value={values.shards} onChange={(event) => set({ shards: event.currentTarget.value })} data-testid="backup-shards" />
          <Checkbox.Group label="Aggregate tables" value={values.tables} onChange={(tables) => set({ tables: tables as BackupTableChoice[] })}>
            <Group gap="md" mt={6} mb={8}>
              {TABLE_CHOICES.map((choice) => (
                <Checkbox key={choice} value={choice} label={choice} data-testid={`backup-table-${choice}`} />
              ))}
            </Group>
          </Checkbox.Group>
          <Checkbox
            label={`Include raw page views (${BACKUP_RAW_TABLE})`}
            checked={values.includeRaw}
            onChange={(event) => set({ includeRaw: event.currentTarget.checked })}
            mb={8}
            data-testid="backup-raw"
          />
        </Group>
        {problem && (
          <Text size="sm" c="red.4" data-testid="backup-form-problem">
            {problem}
          </Text>
        )}
        <Group gap="sm">
          <Button variant="default" onClick={onDryRun} loading={busy} data-testid="backup-dry-run">
            Dry run
          </Button>
          <Button onClick={onBackUp} disabled={busy} data-testid="backup-now">
            Back up now…
          </Button>
          <Text size="xs" c="dimmed">
            One compressed dump per shard, shards in parallel, each of its own consistent snapshot; Strata&apos;s watermarks and run history go with every set. Back up now shows the dry run first.
          </Text>
        </Group>
      </Stack>
    </Paper>
  );
}
