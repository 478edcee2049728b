import { Button, Group, Stack, Table, Text } from '@mantine/core';
import type { BackupPartRecord, BackupSetRecord } from '../../../../shared/backup';
import { StateBadge } from '../../components/StateBadge';
import { formatBytes, formatCount, formatDuration, formatUtc } from '../../format';

const partRows = (part: BackupPartRecord) => part.rowCounts.reduce((sum, table) => sum + table.rows, 0);

/** A part's verification as a badge: verified, failed verification, or not verified yet. */
export function VerificationBadge({ part, testId }: { part: BackupPartRecord; testId?: string }) {
  if (part.verifyOutcome === 'ok') return <StateBadge state="ok" label="verified" testId={testId} />;
  if (part.verifyOutcome === 'failed') return <StateBadge state="failed" label="verify failed" testId={testId} />;
  return <StateBadge state="not-started" label="not verified" testId={testId} />;
}

/** The catalog's sets, newest first: per shard size, duration, rows and verification, with Verify and Restore. */
export function BackupSetsTable({
  sets,
  verifying,
  onVerify,
  onRestore,
}: {
  sets: readonly BackupSetRecord[];
  /** The set being verified from this console, if any. */
  verifying: string | undefined;
  onVerify(set: BackupSetRecord): void;
  onRestore(set: BackupSetRecord): void;
}) {
  if (sets.length === 0) {
    return (
      <Text size="sm" c="dimmed" data-testid="backup-sets-empty">
        No backup set yet.
      </Text>
    );
  }
  return (
    <Table fz="sm" verticalSpacing={8} horizontalSpacing="md" data-testid="backup-sets">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Set</Table.Th>
          <Table.Th>State</Table.Th>
          <Table.Th>Per shard: size · duration · rows · verification</Table.Th>
          <Table.Th />
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {sets.map((set) => {
          const usable = set.parts.some((part) => part.outcome === 'ok');
          const live = set.state === 'running' || set.state === 'cancelling';
          return (
            <Table.Tr key={set.id} data-testid={`backup-set-${set.id}`} data-state={set.state}>
              <Table.Td>
                <Text size="sm" ff="monospace" fw={600}>
                  {set.id}
                </Text>
                <Text size="xs" c="dimmed">
                  {formatUtc(set.startedAt)} UTC · {set.createdBy} · {formatBytes(set.bytes)} {set.compression}
                  {set.includeRaw ? ' · with raw' : ''}
                </Text>
              </Table.Td>
              <Table.Td>
                <StateBadge state={set.state} testId={`backup-set-${set.id}-state`} />
              </Table.Td>
              <Table.Td>
                <Stack gap={4}>
                  {set.parts.map((part) => (
                    <Group key={part.shard} gap="xs" wrap="nowrap" data-testid={`backup-set-${set.id}-part-${part.shard}`}>
                      <Text size="xs" fw={600} w={70}>
                        {part.shardName}
                      </Text>
                      <StateBadge state={part.outcome === 'skipped' ? 'blocked' : part.outcome} label={part.outcome} miw={64} />
                      <Text size="xs" ff="monospace">
                        {formatBytes(part.bytes)} · {formatDuration(part.durationMs)} · {formatCount(partRows(part))} rows
                      </Text>
                      <VerificationBadge part={part} testId={`backup-set-${set.id}-verify-${part.shard}`} />
                      {part.error && (
                        <Text size="xs" c="red.4">
                          {part.error.message}
                        </Text>
                      )}
                      {part.verifyError && (
                        <Text size="xs" c="red.4">
                          {part.verifyError}
                        </Text>
                      )}
                    </Group>
                  ))}
                  {set.error && (
                    <Text size="xs" c="red.4">
                      {set.error}
                    </Text>
                  )}
                </Stack>
              </Table.Td>
              <Table.Td>
                <Group gap="xs" justify="flex-end" wrap="nowrap">
                  <Button size="xs" variant="default" disabled={!usable || live || verifying !== undefined} loading={verifying === set.id} onClick={() => onVerify(set)} data-testid={`backup-verify-${set.id}`}>
                    Verify
                  </Button>
                  <Button size="xs" variant="default" disabled={!usable || live} onClick={() => onRestore(set)} data-testid={`backup-restore-${set.id}`}>
                    Restore…
                  </Button>
                </Group>
              </Table.Td>
            </Table.Tr>
          );
        })}
      </Table.Tbody>
    </Table>
  );
}
