import { Button, Text } from '@mantine/core';
import type { BackupPlan, BackupProgress, BackupSetState } from '../../../../shared/backup';
import type { ConsoleState } from '../../colours';
import { ProgressCard } from '../../components/ProgressCard';
import { ShardProgressRow, ShardProgressTable } from '../../components/ShardProgressTable';
import { formatBytes, formatDuration } from '../../format';
import { progressKey } from './use-backups';

const TITLES: Record<BackupSetState, string> = {
  running: 'Backing up…',
  cancelling: 'Cancelling…',
  ok: 'Backup finished',
  partial: 'Backup partly done',
  failed: 'Backup failed',
  cancelled: 'Backup cancelled',
};

/** A shard line's state: waiting before its first event, then its part's outcome (skipped reads as blocked). */
function lineState(event: BackupProgress | undefined): { state: ConsoleState; label?: string } {
  if (!event) return { state: 'waiting' };
  if (event.outcome === 'skipped') return { state: 'blocked', label: 'skipped' };
  return { state: event.outcome ?? 'running' };
}

/**
 * Live progress of a set this console started: per shard the compressed bytes written, the dump's MB/s, tables
 * done and the time left, with Cancel (which stops every dump of the set and removes the partial files).
 */
export function BackupProgressCard({
  setId,
  plan,
  events,
  state,
  received,
  onCancel,
  cancelling,
}: {
  setId: string;
  plan: BackupPlan;
  events: ReadonlyMap<string, BackupProgress>;
  state: BackupSetState;
  received: number;
  onCancel(): void;
  cancelling: boolean;
}) {
  const live = state === 'running' || state === 'cancelling';
  return (
    <ProgressCard
      title={`${TITLES[state]} ${setId}`}
      state={state}
      testId="backup-progress"
      data={{ events: received, set: setId }}
      actions={
        live && (
          <Button size="xs" color="red" variant="light" onClick={onCancel} loading={cancelling} disabled={state === 'cancelling'} data-testid="backup-cancel">
            Cancel
          </Button>
        )
      }
    >
      <ShardProgressTable>
        {plan.shards.map((shard) => {
          const event = events.get(progressKey(setId, shard.shard));
          const { state: shardState, label } = lineState(event);
          const fraction = event && shard.estimatedBytes > 0 ? Math.min(1, event.dumpBytes / shard.estimatedBytes) : 0;
          return (
            <ShardProgressRow
              key={shard.shard}
              name={shard.shardName}
              state={shardState}
              label={label}
              percent={shardState === 'ok' ? 100 : fraction * 100}
              testId={`backup-progress-${shard.shard}`}
            >
              {event ? (
                <Text size="xs" ff="monospace" data-testid={`backup-progress-${shard.shard}-numbers`}>
                  {formatBytes(event.bytesWritten)} written of {formatBytes(event.dumpBytes)} dumped · {event.mbPerSecond.toFixed(1)} MB/s · tables {event.tablesDone}/{event.tablesTotal}
                  {event.currentTable && shardState === 'running' ? ` (${event.currentTable})` : ''}
                  {event.etaSeconds !== null && shardState === 'running' ? ` · ~${formatDuration(event.etaSeconds * 1000)} left` : ''}
                  {shardState !== 'running' ? ` · ${formatDuration(event.elapsedMs)}` : ''}
                </Text>
              ) : (
                <Text size="xs" c="dimmed">
                  waiting for its dump to start
                </Text>
              )}
              {event?.error && (
                <Text size="xs" c="red.4">
                  {event.error}
                </Text>
              )}
            </ShardProgressRow>
          );
        })}
      </ShardProgressTable>
    </ProgressCard>
  );
}
