import { Badge, Button, Table, Text } from '@mantine/core';
import type { CacheInvalidationLogEntry, CacheKey } from '../../../../shared/cache';
import { columnsOf, RecordTable } from '../../components/RecordTable';
import { formatBytes, formatCount, formatUtc } from '../../format';

const KEY_COLUMNS = [...columnsOf(['Site', 'Kind', 'Key', 'Range', 'TTL', 'Size'], ['TTL', 'Size']), {}];
const LOG_COLUMNS = columnsOf(['When', 'Run', 'What changed', 'Keys deleted'], ['Keys deleted']);

function ttlText(seconds: number | null): string {
  if (seconds === null) return 'no expiry';
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}

/** The application's keys with their TTL and size; each site's row offers to invalidate that site. */
export function KeysTable({ keys, onInvalidateSite }: { keys: readonly CacheKey[]; onInvalidateSite(siteId: number): void }) {
  return (
    <RecordTable testId="cache-keys-table" maxHeight={360} columns={KEY_COLUMNS} rowCount={keys.length} empty={{ text: 'No chart or stats keys of the application under its prefix.', testId: 'cache-keys-empty' }}>
      {keys.map((key) => (
        <Table.Tr key={key.key} data-testid="cache-key-row" data-key={key.key} data-site={key.siteId}>
          <Table.Td ff="monospace">{key.siteId}</Table.Td>
          <Table.Td>
            <Badge size="sm" variant="light" color={key.kind === 'chart' ? 'blue' : 'grape'}>
              {key.kind === 'chart' ? `chart ${key.period ?? ''}` : 'stats 24 h'}
            </Badge>
          </Table.Td>
          <Table.Td ff="monospace" fz="xs">
            {key.key}
          </Table.Td>
          <Table.Td fz="xs" c="dimmed">
            {key.startDate ? `${key.startDate} – ${key.endDate}` : 'last 24 h'}
          </Table.Td>
          <Table.Td ta="right" ff="monospace" data-testid="cache-key-ttl">
            {ttlText(key.ttlSeconds)}
          </Table.Td>
          <Table.Td ta="right" ff="monospace">
            {key.sizeBytes === null ? '—' : formatBytes(key.sizeBytes)}
          </Table.Td>
          <Table.Td>
            <Button size="compact-xs" variant="subtle" color="red" onClick={() => onInvalidateSite(key.siteId)} data-testid={`cache-invalidate-site-${key.siteId}`}>
              Invalidate site…
            </Button>
          </Table.Td>
        </Table.Tr>
      ))}
    </RecordTable>
  );
}

function scopeText(entry: CacheInvalidationLogEntry): string {
  const sites = entry.siteId !== null ? `site ${entry.siteId}` : entry.shards ? `sites of shard${entry.shards.length === 1 ? '' : 's'} ${entry.shards.join(', ')}` : 'all sites';
  return entry.from && entry.to ? `${sites}, ${formatUtc(entry.from)} – ${formatUtc(entry.to)}` : sites;
}

const RUN_LABEL: Record<CacheInvalidationLogEntry['runKind'], string> = { backfill: 'Backfill', reconcile: 'Reconciliation', rollup: 'Rollup re-run', manual: 'By hand' };

/** Strata's invalidations, newest first: which run (or a person), what it covered, how many keys went. */
export function InvalidationLog({ entries }: { entries: readonly CacheInvalidationLogEntry[] }) {
  return (
    <RecordTable testId="cache-log-table" columns={LOG_COLUMNS} rowCount={entries.length} empty={{ text: 'No invalidations yet: backfills, reconciliations and rollup re-runs delete the keys they make stale, and each is listed here.', testId: 'cache-log-empty' }}>
      {entries.map((entry) => (
      <Table.Tr key={entry.id} data-testid="cache-log-row" data-run={entry.runKind}>
        <Table.Td ff="monospace" fz="xs">
          {formatUtc(entry.at, 'second')}
        </Table.Td>
        <Table.Td>
          {RUN_LABEL[entry.runKind]}
          {entry.runId && (
            <Text span size="xs" c="dimmed" ff="monospace">
              {' '}
              {entry.runKind === 'backfill' ? `#${entry.runId}` : entry.runId.slice(0, 8)}
            </Text>
          )}
        </Table.Td>
        <Table.Td fz="xs">{scopeText(entry)}</Table.Td>
        <Table.Td ta="right" ff="monospace" data-testid="cache-log-keys">
          {entry.keysDeleted === null ? (
            <Text span c="orange.4" size="xs">
              {entry.note ?? 'not invalidated'}
            </Text>
          ) : (
            formatCount(entry.keysDeleted)
          )}
        </Table.Td>
      </Table.Tr>
      ))}
    </RecordTable>
  );
}
