import { Alert, Badge, Button, Group, NumberInput, Paper, SimpleGrid, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import type { RetentionKey, RetentionPolicyEntry, RetentionSetRequest, RetentionSettings } from '../../../../shared/retention';
import { failureText } from '../../api/failure';
import { SectionTitle } from '../../components/SectionTitle';
import { formatUtc } from '../../format';
import { useSetRetention } from './use-retention';

type SettingKey = keyof RetentionSettings;
/** What the inputs hold: a number, or the text of an input being typed into (empty, a lone minus sign). */
type Draft = Record<SettingKey, number | string>;

interface Field {
  key: SettingKey;
  label: string;
  unit: string;
  help: string;
}

const RETENTION_FIELDS: Array<Field & { key: RetentionKey }> = [
  { key: 'rawHours', label: 'Raw page views', unit: 'hours', help: 'analytics_realtime' },
  { key: 'hourlyDays', label: 'Hourly rollups', unit: 'days', help: 'analytics_hourly' },
  { key: 'dailyDays', label: 'Daily rollups', unit: 'days', help: 'analytics_daily' },
  { key: 'monthlyMonths', label: 'Monthly rollups', unit: 'months', help: 'analytics_monthly' },
];

const PACE_FIELDS: Field[] = [
  { key: 'batchRows', label: 'Rows per DELETE batch', unit: 'rows', help: 'rows outside droppable partitions go this many at a time' },
  { key: 'batchPauseMs', label: 'Pause between batches', unit: 'ms', help: 'lets replicas and other queries keep up' },
  { key: 'timeBudgetSeconds', label: 'Time budget per shard', unit: 's', help: 'a prune stops after this; the next one continues' },
];

const SETTING_KEYS = [...RETENTION_FIELDS, ...PACE_FIELDS].map((field) => field.key);

/** The settings that differ from what is stored, or the reason the draft cannot be sent yet. */
function changesOf(draft: Draft, stored: RetentionSettings): { request: RetentionSetRequest } | { problem: string } {
  const empty = SETTING_KEYS.find((key) => typeof draft[key] !== 'number');
  if (empty) return { problem: `${empty} needs a number` };
  const request: RetentionSetRequest = {};
  for (const key of SETTING_KEYS) if (draft[key] !== stored[key]) request[key] = draft[key] as number;
  return { request };
}

function SettingInput({ field, entry, value, onChange }: { field: Field; entry: RetentionPolicyEntry; value: number | string; onChange(value: number | string): void }) {
  const stored = entry.policy[field.key];
  const minimum = entry.minimums[field.key];
  const below = minimum !== undefined && typeof value === 'number' && value < minimum.value;
  return (
    <Stack gap={4}>
      <NumberInput
        label={field.label}
        value={value}
        onChange={onChange}
        allowDecimal={false}
        allowNegative={false}
        // No clamping: a value under the minimum goes to the main process, which refuses it with the reason.
        clampBehavior="none"
        suffix={` ${field.unit}`}
        thousandSeparator=","
        styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', borderColor: value !== stored ? 'var(--mantine-color-blue-5)' : undefined } }}
        data-testid={`policy-${field.key}`}
      />
      <Text size="xs" c="dimmed" data-testid={`policy-${field.key}-help`}>
        {field.help} · default {entry.defaults[field.key].toLocaleString('en-US')}
        {value !== stored ? ` · stored ${stored.toLocaleString('en-US')}` : ''}
      </Text>
      {minimum && (
        <Text size="xs" c={below ? 'orange.4' : 'dimmed'} fw={below ? 600 : undefined} data-testid={`policy-${field.key}-minimum`}>
          at least {minimum.value} {minimum.value === 1 ? field.unit.replace(/s$/, '') : field.unit}: {minimum.why}
        </Text>
      )}
    </Stack>
  );
}

/**
 * The cluster's retention policy as a form. Nothing is stored until Save; the main process checks every value
 * (retention against the rollup lag included) and a refused change leaves the stored policy as it was.
 */
export function PolicyEditor({ entry }: { entry: RetentionPolicyEntry }) {
  const [draft, setDraft] = useState<Draft | undefined>();
  const [problem, setProblem] = useState<string | undefined>();
  const save = useSetRetention();
  const shown: Draft = draft ?? entry.policy;
  const checked = changesOf(shown, entry.policy);
  const dirty = 'problem' in checked || Object.keys(checked.request).length > 0;
  const set = (key: SettingKey, value: number | string) => {
    setDraft({ ...shown, [key]: value });
    setProblem(undefined);
    save.reset();
  };
  const discard = () => {
    setDraft(undefined);
    setProblem(undefined);
    save.reset();
  };
  const store = () => {
    if ('problem' in checked) {
      setProblem(checked.problem);
      return;
    }
    save.mutate(checked.request, { onSuccess: () => setDraft(undefined) });
  };
  const refusal = save.error ? failureText(save.error, 'the retention policy') : undefined;
  return (
    <Stack gap={6}>
      <SectionTitle
        right={
          entry.isDefault ? (
            <Badge variant="light" color="gray" tt="none" radius="sm" data-testid="policy-changed">
              built-in defaults
            </Badge>
          ) : (
            <Text size="xs" c="dimmed" data-testid="policy-changed">
              changed by {entry.changedBy ?? 'unknown'}
              {entry.changedAt ? ` · ${formatUtc(entry.changedAt, 'second')} UTC` : ''}
            </Text>
          )
        }
      >
        Policy
      </SectionTitle>
      <Paper withBorder radius="md" p="md" data-testid="policy-editor" data-dirty={dirty}>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            store();
          }}
        >
          <Stack gap="md">
            <Text size="sm" c="dimmed">
              How long each table keeps its rows. A window is removed only once the next level has rolled it up and its totals agree; older windows that have not been are kept back and listed in the dry run.
            </Text>
            <SimpleGrid cols={{ base: 2, lg: 4 }} spacing="md">
              {RETENTION_FIELDS.map((field) => (
                <SettingInput key={field.key} field={field} entry={entry} value={shown[field.key]} onChange={(value) => set(field.key, value)} />
              ))}
            </SimpleGrid>
            <SimpleGrid cols={{ base: 2, lg: 4 }} spacing="md">
              {PACE_FIELDS.map((field) => (
                <SettingInput key={field.key} field={field} entry={entry} value={shown[field.key]} onChange={(value) => set(field.key, value)} />
              ))}
            </SimpleGrid>
            {(problem || refusal) && (
              <Alert color="red" variant="light" title={refusal ? `${refusal.title}: nothing was changed` : 'Not sent'} data-testid="policy-refusal">
                {refusal ? refusal.message : problem}
              </Alert>
            )}
            <Group gap="sm">
              <Button type="submit" disabled={!dirty} loading={save.isPending} data-testid="policy-save">
                Save
              </Button>
              <Button variant="default" disabled={!dirty} onClick={discard} data-testid="policy-discard">
                Discard changes
              </Button>
              <Button variant="subtle" onClick={() => setDraft({ ...entry.defaults })} data-testid="policy-reset">
                Reset to defaults
              </Button>
              <Text size="xs" c="dimmed">
                {draft && dirty ? 'Unsaved changes: Save stores them for every host of the cluster.' : 'Changes apply to the next prune, on any host.'}
              </Text>
            </Group>
          </Stack>
        </form>
      </Paper>
    </Stack>
  );
}
