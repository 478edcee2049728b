import { Progress, Table, Text } from '@mantine/core';
import type { BackupProgress, BackupSetRecord, BackupVerifyReport } from '../../../../shared/backup';
import { stateColour } from '../../colours';
import { ProgressCard } from '../../components/ProgressCard';
import { StateBadge } from '../../components/StateBadge';
import { formatCount, formatDuration } from '../../format';
import { progressKey } from './use-backups';

/**
 * A verification: each usable part is checked (sha256), restored into a scratch database and compared table by table
 * with the manifest. While the call is in flight each part shows how much of its file is loaded (the verify progress
 * events); the answer gives each one's outcome and tables.
 */
export function VerifyProgressCard({ set, report, failure, progress }: { set: BackupSetRecord; report: BackupVerifyReport | undefined; failure: Error | null; progress?: ReadonlyMap<string, BackupProgress> }) {
  const parts = set.parts.filter((part) => part.outcome === 'ok');
  const running = report === undefined && failure === null;
  const overall = running ? 'running' : failure || report?.parts.some((part) => part.outcome === 'failed') ? 'failed' : 'ok';
  return (
    <ProgressCard
      title={running ? `Verifying ${set.id}…` : overall === 'ok' ? `Verified ${set.id}` : `Verification of ${set.id} failed`}
      state={overall}
      testId="verify-progress"
      data={{ set: set.id }}
    >
      {failure && (
        <Text size="sm" c="red.4" data-testid="verify-failure">
          {failure.message}
        </Text>
      )}
      <Table fz="sm" verticalSpacing={6} horizontalSpacing="md">
        <Table.Tbody>
          {parts.map((part) => {
            const result = report?.parts.find((entry) => entry.shard === part.shard);
            const state = result?.outcome ?? (running ? 'running' : 'unknown');
            const loading = running && !result ? progress?.get(progressKey(set.id, part.shard)) : undefined;
            const loaded = loading && part.bytes > 0 ? Math.min(100, (loading.bytesWritten / part.bytes) * 100) : 0;
            return (
              <Table.Tr key={part.shard} data-testid={`verify-progress-${part.shard}`} data-state={state}>
                <Table.Td w={100} fw={600}>
                  {part.shardName}
                </Table.Td>
                <Table.Td w={110}>
                  <StateBadge state={state} miw={80} />
                </Table.Td>
                <Table.Td w={200}>
                  <Progress value={result ? 100 : loaded} color={stateColour(state)} animated={running} striped={running} size="sm" />
                </Table.Td>
                <Table.Td>
                  {result ? (
                    <>
                      <Text size="xs" ff="monospace" data-testid={`verify-progress-${part.shard}-tables`}>
                        {result.tables
                          .map((table) => `${table.table} ${formatCount(table.actualRows ?? 0)}/${formatCount(table.expectedRows)} rows${table.checksumMatches === false ? ' checksum differs' : ''}`)
                          .join(' · ')}{' '}
                        · {formatDuration(result.verifyMs)}
                      </Text>
                      {result.error && (
                        <Text size="xs" c="red.4">
                          {result.error}
                        </Text>
                      )}
                    </>
                  ) : loading ? (
                    <Text size="xs" c="dimmed" data-testid={`verify-progress-${part.shard}-loading`}>
                      restoring into a scratch database: {Math.round(loaded)} % of the file, {loading.mbPerSecond.toFixed(1)} MB/s
                      {loading.etaSeconds !== null ? `, about ${formatDuration(loading.etaSeconds * 1000)} left` : ''}
                    </Text>
                  ) : (
                    <Text size="xs" c="dimmed">
                      {running ? 'checking the sha256, restoring into a scratch database and comparing every table' : 'no answer for this shard'}
                    </Text>
                  )}
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </ProgressCard>
  );
}
