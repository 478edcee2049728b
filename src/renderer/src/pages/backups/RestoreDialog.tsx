import { Alert, Button, Code, Group, List, Modal, MultiSelect, Radio, Select, Stack, Text, TextInput } from '@mantine/core';
import { useEffect, useState } from 'react';
import type { BackupRestoreReport, BackupRestoreRequest, BackupSetRecord } from '../../../../shared/backup';
import { failureText } from '../../api/failure';
import { formatCount, formatDuration, formatUtc } from '../../format';

type Target = 'scratch' | 'replace';

/**
 * Restores one shard's part of a set. It goes into a scratch database unless Replace is chosen; Replace first says
 * what it does to the live tables and the watermarks, and is allowed only once the shard's name is typed.
 */
export function RestoreDialog({
  set,
  onClose,
  onRestore,
  restoring,
  report,
  error,
}: {
  set: BackupSetRecord | undefined;
  onClose(): void;
  onRestore(request: BackupRestoreRequest): void;
  restoring: boolean;
  report: BackupRestoreReport | undefined;
  error: Error | null;
}) {
  const parts = set?.parts.filter((part) => part.outcome === 'ok') ?? [];
  const [shard, setShard] = useState<string | null>(null);
  const [tables, setTables] = useState<string[]>([]);
  const [target, setTarget] = useState<Target>('scratch');
  const [into, setInto] = useState('');
  const [typed, setTyped] = useState('');
  const part = parts.find((candidate) => String(candidate.shard) === shard);

  // A fresh dialog for every set: the first usable part, every table, a scratch database.
  useEffect(() => {
    const first = set?.parts.find((candidate) => candidate.outcome === 'ok');
    setShard(first ? String(first.shard) : null);
    setTables([]);
    setTarget('scratch');
    setInto('');
    setTyped('');
  }, [set?.id]);
  useEffect(() => setTyped(''), [shard, target]);

  const intoProblem = target === 'scratch' && into !== '' && !/^[A-Za-z0-9_]{1,64}$/.test(into) ? 'a database name is letters, digits and _ (at most 64)' : undefined;
  const confirmed = target === 'scratch' || (part !== undefined && typed === part.shardName);
  const submit = () => {
    if (!set || !part) return;
    onRestore({
      id: set.id,
      shard: part.shard,
      ...(tables.length > 0 ? { tables } : {}),
      ...(target === 'scratch' && into !== '' ? { into } : {}),
      replace: target === 'replace',
      confirm: true,
    });
  };

  return (
    <Modal opened={set !== undefined} onClose={onClose} title={<Text fw={700}>Restore {set?.id}</Text>} centered size="lg" data-testid="restore-dialog">
      <Stack gap="md">
        <Group grow align="flex-start">
          <Select
            label="Shard"
            data={parts.map((candidate) => ({ value: String(candidate.shard), label: candidate.shardName }))}
            value={shard}
            onChange={setShard}
            allowDeselect={false}
            comboboxProps={{ withinPortal: false }}
            data-testid="restore-shard"
          />
          <MultiSelect
            label="Tables"
            placeholder={tables.length === 0 ? 'every table of the backup' : undefined}
            data={part?.tables ?? []}
            value={tables}
            onChange={setTables}
            comboboxProps={{ withinPortal: false }}
            data-testid="restore-tables"
          />
        </Group>
        <Radio.Group label="Restore into" value={target} onChange={(value) => setTarget(value as Target)}>
          <Stack gap={6} mt={6}>
            <Radio value="scratch" label="A scratch database on the shard (the live tables are not touched)" data-testid="restore-target-scratch" />
            <Radio value="replace" label="The live database, replacing its tables (--replace)" data-testid="restore-target-replace" />
          </Stack>
        </Radio.Group>
        {target === 'scratch' && (
          <TextInput
            label="Scratch database"
            placeholder="a new name Strata chooses"
            value={into}
            onChange={(event) => setInto(event.currentTarget.value)}
            error={intoProblem}
            data-testid="restore-into"
          />
        )}
        {target === 'replace' && part && (
          <Alert color="red" variant="light" title="What replacing does" data-testid="restore-replace-explained">
            <List size="sm" spacing={4}>
              <List.Item>
                The chosen tables of <Code>{part.database}</Code> on {part.shardName} are dropped and loaded from this backup, taken {part.finishedAt ? `${formatUtc(part.finishedAt)} UTC` : 'when the set ran'}: every row
                written to them since is gone.
              </List.Item>
              <List.Item>The cluster&apos;s scheduler must be paused for {part.shardName} while it runs; the restore is refused otherwise.</List.Item>
              <List.Item>
                The shard&apos;s watermarks go back to the backup&apos;s ({part.watermarks.map((mark) => `${mark.level} ${mark.watermark ? formatUtc(mark.watermark) : 'none'}`).join(', ') || 'none recorded'}), so the windows after
                them are rolled up again from their source instead of being believed done. Windows whose source retention already removed cannot be rebuilt.
              </List.Item>
              <List.Item>It is written to the audit log.</List.Item>
            </List>
            <TextInput
              mt="sm"
              label={`Type ${part.shardName} to allow it`}
              value={typed}
              onChange={(event) => setTyped(event.currentTarget.value)}
              data-testid="restore-confirm-text"
            />
          </Alert>
        )}
        {error && (
          <Text size="sm" c="red.4" data-testid="restore-error">
            {failureText(error, 'the restore').line}
          </Text>
        )}
        {report && (
          <Alert color="teal" variant="light" title={`Restored into ${report.database}`} data-testid="restore-report">
            <Text size="sm">
              {report.tables.map((table) => `${table.table} ${formatCount(table.rows)} rows`).join(' · ')} in {formatDuration(report.durationMs)}
              {report.replaced ? '; the watermarks were set back to the backup’s' : ''}.
            </Text>
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose} data-testid="restore-close">
            {report ? 'Close' : 'Not now'}
          </Button>
          <Button
            color={target === 'replace' ? 'red' : undefined}
            disabled={!part || !confirmed || intoProblem !== undefined || report !== undefined}
            loading={restoring}
            onClick={submit}
            data-testid="restore-run"
          >
            {target === 'replace' ? 'Replace the live tables' : 'Restore into scratch'}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
