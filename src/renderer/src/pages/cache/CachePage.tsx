import { Alert, Button, Group, List, NumberInput, SegmentedControl, SimpleGrid, Stack, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import type { CacheInvalidateRequest, CacheInvalidationResult } from '../../../../shared/cache';
import { MONITOR_RANGES, type MonitorRange } from '../../../../shared/monitor';
import { failureText } from '../../api/failure';
import { LiveIndicator } from '../../components/LiveIndicator';
import { PageHeader } from '../../components/PageHeader';
import { PlanConfirmModal } from '../../components/PlanConfirmModal';
import { QueryFailure } from '../../components/QueryFailure';
import { SectionTitle } from '../../components/SectionTitle';
import { StatCard } from '../../components/StatCard';
import { formatBytes, formatCount } from '../../format';
import { seriesOf } from '../monitoring/figures';
import { MetricChart } from '../monitoring/MetricChart';
import { InvalidationLog, KeysTable } from './CacheTables';
import { KEYS_LIMIT, LOG_LIMIT, useCacheKeys, useCacheStats, useHitRatioSeries, useInvalidate, useInvalidationDryRun, useInvalidationLog } from './use-cache';

const RANGE_LABEL: Record<MonitorRange, string> = { '1h': '1 h', '24h': '24 h', '7d': '7 d' };
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Inclusive days as the half-open range the service compares with: `2026-11-10`–`2026-11-11` is [10th, 12th). */
function dayRange(from: string, to: string): { from: string; to: string } | undefined | 'invalid' {
  if (!from && !to) return undefined;
  if (!DATE.test(from) || !DATE.test(to) || from > to) return 'invalid';
  return { from: `${from}T00:00:00.000Z`, to: new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000).toISOString() };
}

/** What the confirmation lists: the count from the dry run and the first keys. */
function DryRunSummary({ result }: { result: CacheInvalidationResult }) {
  return (
    <Stack gap="xs">
      <Text size="sm" data-testid="cache-confirm-count">
        {formatCount(result.matched)} key{result.matched === 1 ? '' : 's'} of {result.scope} will be deleted ({formatCount(result.scanned)} scanned).
      </Text>
      {result.sample.length > 0 && (
        <List size="xs" spacing={2} ff="monospace" data-testid="cache-confirm-sample">
          {result.sample.map((key) => (
            <List.Item key={key}>{key}</List.Item>
          ))}
        </List>
      )}
      {result.matched > 0 ? (
        <Alert color="orange" variant="light">
          The application computes these charts again from the shards on its next read; nothing else changes.
        </Alert>
      ) : (
        <Text size="sm" c="dimmed">
          No cached key overlaps: there is nothing to invalidate.
        </Text>
      )}
    </Stack>
  );
}

/** The application's Redis chart cache: hit ratio over time, memory, evictions, keys with TTLs, invalidation and its log. */
export function CachePage() {
  const [range, setRange] = useState<MonitorRange>('24h');
  const [site, setSite] = useState<number | undefined>();
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [pending, setPending] = useState<CacheInvalidateRequest | undefined>();
  const stats = useCacheStats();
  const keys = useCacheKeys(site);
  const log = useInvalidationLog();
  const series = useHitRatioSeries(range);
  const dryRun = useInvalidationDryRun();
  const invalidate = useInvalidate();
  const days = dayRange(from, to);
  const failing = stats.error !== null || keys.error !== null;
  const updatedAt = Math.min(...[stats, keys].map((query) => query.dataUpdatedAt).filter((at) => at > 0));

  const ask = (request: CacheInvalidateRequest) => {
    invalidate.reset();
    setPending(request);
    dryRun.mutate(request);
  };
  const confirm = () => {
    if (!pending) return;
    invalidate.mutate(pending);
    setPending(undefined);
  };
  const hitLine = [{ label: 'Redis', points: seriesOf(series.data?.series, 'redis.hit_ratio', 'cluster')?.points ?? [] }];
  const data = stats.data;

  return (
    <Stack gap="lg" data-testid="page-cache">
      <PageHeader title="Cache" subtitle="The application's chart cache in Redis: Strata reads and invalidates its keys, never writes them · times in UTC">
        {Number.isFinite(updatedAt) && <LiveIndicator testId="cache-updated" updatedAt={updatedAt} failing={failing} />}
      </PageHeader>
      {stats.error && <QueryFailure testId="cache-stats-error" error={stats.error} what="the cache" stale={data !== undefined} />}
      <SimpleGrid cols={{ base: 2, md: 4 }}>
        <StatCard
          testId="cache-hit-ratio"
          label="Hit ratio"
          value={data ? (data.hitRatio === null ? '—' : `${(data.hitRatio * 100).toFixed(1)} %`) : '…'}
          detail={data ? `${formatCount(data.hits)} hits, ${formatCount(data.misses)} misses since Redis started` : ''}
        />
        <StatCard
          testId="cache-memory"
          label="Memory"
          value={data ? formatBytes(data.usedMemoryBytes) : '…'}
          detail={data ? (data.maxMemoryBytes ? `of ${formatBytes(data.maxMemoryBytes)} maxmemory` : 'no maxmemory set') : ''}
        />
        <StatCard testId="cache-evictions" label="Evicted keys" value={data ? formatCount(data.evictedKeys) : '…'} detail={data ? `${formatCount(data.expiredKeys)} expired` : ''} alert={data && data.evictedKeys > 0 ? 'orange' : undefined} />
        <StatCard
          testId="cache-key-count"
          label="App keys"
          value={data ? formatCount(data.keysByKind.chart + data.keysByKind.stats) : '…'}
          detail={data ? `${formatCount(data.keysByKind.chart)} chart, ${formatCount(data.keysByKind.stats)} stats over ${formatCount(data.sites)} sites${data.truncated ? ' (more: scan bound)' : ''}` : ''}
        />
      </SimpleGrid>
      <Stack gap={6}>
        <SectionTitle right={<SegmentedControl size="xs" value={range} onChange={(value) => setRange(value as MonitorRange)} data={MONITOR_RANGES.map((value) => ({ value, label: RANGE_LABEL[value] }))} data-testid="cache-range" />}>
          Hit ratio over time
        </SectionTitle>
        {series.data && <MetricChart title="Redis keyspace hit ratio (probe cycles)" metric="redis.hit_ratio" lines={hitLine} range={range} from={series.data.from} to={series.data.to} testId="cache-hit-chart" />}
      </Stack>
      <Stack gap="sm">
        <SectionTitle>Invalidate</SectionTitle>
        <Group align="flex-end" gap="sm">
          <NumberInput label="Site" placeholder="all sites" min={0} allowDecimal={false} value={site ?? ''} onChange={(value) => setSite(typeof value === 'number' ? value : undefined)} w={140} data-testid="cache-site" />
          <TextInput label="From day" placeholder="YYYY-MM-DD" value={from} onChange={(event) => setFrom(event.currentTarget.value.trim())} w={140} data-testid="cache-from" />
          <TextInput label="To day (inclusive)" placeholder="YYYY-MM-DD" value={to} onChange={(event) => setTo(event.currentTarget.value.trim())} w={160} data-testid="cache-to" />
          <Button
            color="red"
            variant="light"
            disabled={site === undefined || days === 'invalid'}
            onClick={() => site !== undefined && days !== 'invalid' && ask({ siteId: site, ...(days ?? {}) })}
            data-testid="cache-invalidate"
          >
            Invalidate site…
          </Button>
          <Button color="red" variant="subtle" onClick={() => ask({ all: true })} data-testid="cache-invalidate-all">
            Invalidate all…
          </Button>
        </Group>
        {days === 'invalid' && (
          <Text size="xs" c="red.4" data-testid="cache-range-invalid">
            Give both days as YYYY-MM-DD, the first not after the second.
          </Text>
        )}
        {invalidate.error && (
          <Alert color="red" variant="light" title={failureText(invalidate.error, 'the invalidation').title} data-testid="cache-invalidate-refusal">
            {invalidate.error.message}
          </Alert>
        )}
        {invalidate.data && (
          <Alert color="teal" variant="light" data-testid="cache-invalidate-result">
            Deleted {formatCount(invalidate.data.deleted)} key{invalidate.data.deleted === 1 ? '' : 's'} of {invalidate.data.scope}.
          </Alert>
        )}
      </Stack>
      <Stack gap={6}>
        <SectionTitle
          right={
            <Text size="xs" c="dimmed">
              {keys.data ? `${formatCount(keys.data.matched)} key${keys.data.matched === 1 ? '' : 's'}${keys.data.truncated ? `, first ${KEYS_LIMIT} listed` : ''} under ${keys.data.prefix}` : ''}
            </Text>
          }
        >
          Keys{site === undefined ? '' : ` of site ${site}`}
        </SectionTitle>
        {data && data.topSites.length > 0 && (
          <Group gap={6} data-testid="cache-top-sites">
            <Text size="xs" c="dimmed">
              Most keys:
            </Text>
            {data.topSites.slice(0, 10).map((top) => (
              <Button key={top.siteId} size="compact-xs" variant={site === top.siteId ? 'filled' : 'default'} onClick={() => setSite(site === top.siteId ? undefined : top.siteId)} data-testid={`cache-top-site-${top.siteId}`}>
                site {top.siteId} · {formatCount(top.keys)}
              </Button>
            ))}
          </Group>
        )}
        {keys.error && <QueryFailure testId="cache-keys-error" error={keys.error} what="the keys" stale={keys.data !== undefined} />}
        {keys.data && <KeysTable keys={keys.data.keys} onInvalidateSite={(siteId) => ask({ siteId })} />}
      </Stack>
      <Stack gap={6}>
        <SectionTitle
          right={
            <Text size="xs" c="dimmed">
              newest {LOG_LIMIT}, from every host
            </Text>
          }
        >
          Invalidations
        </SectionTitle>
        {log.error && <QueryFailure testId="cache-log-error" error={log.error} what="the invalidation log" stale={log.data !== undefined} />}
        {log.data?.problem && (
          <Alert color="orange" variant="light" data-testid="cache-log-problem">
            The log could not be read: {log.data.problem.message}
          </Alert>
        )}
        {log.data && <InvalidationLog entries={log.data.entries} />}
      </Stack>
      <PlanConfirmModal
        opened={pending !== undefined}
        title={pending?.all ? 'Invalidate every chart of every site?' : 'Invalidate these cached charts?'}
        testId="cache-confirm"
        planName="the count"
        planReady={dryRun.data !== undefined && !dryRun.isPending}
        planError={dryRun.error}
        confirmLabel="Delete keys"
        confirmId="run"
        confirmColor="red"
        canConfirm={(dryRun.data?.matched ?? 0) > 0}
        onClose={() => setPending(undefined)}
        onConfirm={confirm}
      >
        {dryRun.data && <DryRunSummary result={dryRun.data} />}
      </PlanConfirmModal>
    </Stack>
  );
}
