import { Badge, Center, Group, Loader, NumberInput, Paper, SegmentedControl, Select, SimpleGrid, Stack, Table, Text } from '@mantine/core';
import { DatePickerInput } from '@mantine/dates';
import { keepPreviousData } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import type { TrafficAnswer, TrafficScope } from '../../../../shared/traffic';
import { useChannelQuery } from '../../api/hooks';
import { PageHeader } from '../../components/PageHeader';
import { PartialResultBanner } from '../../components/PartialResultBanner';
import { QueryFailure } from '../../components/QueryFailure';
import { SectionTitle } from '../../components/SectionTitle';
import { StatCard } from '../../components/StatCard';
import { TrafficChart } from './TrafficChart';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const TRAFFIC_RANGES = { '24h': { label: '24 h', ms: DAY }, '7d': { label: '7 d', ms: 7 * DAY }, '30d': { label: '30 d', ms: 30 * DAY }, '1y': { label: '1 y', ms: 365 * DAY }, '5y': { label: '5 y', ms: 5 * 365 * DAY } } as const;
type RangeKey = keyof typeof TRAFFIC_RANGES | 'custom';
type ScopeKind = TrafficScope['kind'];

/**
 * The range of a preset, ending at the next hour: stable for the hour, so the same chart is asked again (and
 * served from Strata's chart cache) while the page stays open, and the current hour is still in it.
 */
function presetRange(key: keyof typeof TRAFFIC_RANGES, now: number): { from: string; to: string } {
  const to = Math.ceil(now / HOUR) * HOUR;
  return { from: new Date(to - TRAFFIC_RANGES[key].ms).toISOString(), to: new Date(to).toISOString() };
}

/** A picked day range, read as UTC days: from the first day's 00:00 to the end of the last. */
function customRange(days: [string | null, string | null]): { from: string; to: string } | undefined {
  const [first, last] = days;
  if (!first || !last) return undefined;
  const from = Date.parse(`${first.slice(0, 10)}T00:00:00Z`);
  const to = Date.parse(`${last.slice(0, 10)}T00:00:00Z`) + DAY;
  return Number.isNaN(from) || Number.isNaN(to) ? undefined : { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

function cacheText(cache: TrafficAnswer['cache']): { label: string; colour: string; detail: string } {
  if (cache.state === 'hit') return { label: 'cache hit', colour: 'teal', detail: `${cache.ageSeconds} s old, kept ${cache.ttlSeconds} s, ${cache.from === 'memory' ? 'from memory (tracked copy)' : 'from Redis'}` };
  if (cache.state === 'miss') return { label: 'cache miss', colour: 'blue', detail: `computed now, kept ${cache.ttlSeconds} s` };
  return { label: 'uncached', colour: 'orange', detail: cache.reason };
}

const count = (value: number) => value.toLocaleString('en-US');

/** Sites by id for the picker; with no search, the busiest of the last 24 hours. */
function SitePicker({ siteId, onChange }: { siteId: number | null; onChange: (siteId: number | null) => void }) {
  const [search, setSearch] = useState('');
  const digits = search.replace(/\D/g, '').slice(0, 10);
  const sites = useChannelQuery(['traffic:sites', digits], (api) => api.traffic.sites({ search: digits, limit: 20 }), { placeholderData: keepPreviousData, staleTime: 60_000 });
  const data = (sites.data?.sites ?? []).map((site) => ({ value: String(site.siteId), label: `site ${site.siteId} · shard ${site.shard} · ${count(site.pageViews24h)} views 24 h` }));
  if (siteId !== null && !data.some((option) => option.value === String(siteId))) data.unshift({ value: String(siteId), label: `site ${siteId}` });
  return (
    <Select
      w={320}
      size="xs"
      searchable
      placeholder="search a site by id, or pick one of the busiest"
      data={data}
      value={siteId === null ? null : String(siteId)}
      onChange={(value) => onChange(value === null ? null : Number(value))}
      searchValue={search}
      onSearchChange={setSearch}
      filter={({ options }) => options}
      nothingFoundMessage={sites.isFetching ? 'searching…' : 'no site with that id'}
      data-testid="traffic-site-picker"
    />
  );
}

function TopTable({ answer }: { answer: TrafficAnswer }) {
  if (!answer.top) return null;
  return (
    <Table fz="xs" verticalSpacing={2} data-testid="traffic-top">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Site</Table.Th>
          <Table.Th>Shard</Table.Th>
          <Table.Th ta="right">Page views</Table.Th>
          <Table.Th ta="right">Visitors</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {answer.top.map((row) => (
          <Table.Tr key={row.siteId} data-testid={`traffic-top-${row.siteId}`}>
            <Table.Td>{row.siteId}</Table.Td>
            <Table.Td>{row.shard}</Table.Td>
            <Table.Td ta="right" ff="monospace">
              {count(row.pageViews)}
            </Table.Td>
            <Table.Td ta="right" ff="monospace">
              {count(row.visitors)}
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

export function TrafficPage() {
  const [kind, setKind] = useState<ScopeKind>('cluster');
  const [siteId, setSiteId] = useState<number | null>(null);
  const [limit, setLimit] = useState(10);
  const [rangeKey, setRangeKey] = useState<RangeKey>('24h');
  const [days, setDays] = useState<[string | null, string | null]>([null, null]);
  const hour = Math.floor(Date.now() / HOUR);
  const range = useMemo(() => (rangeKey === 'custom' ? customRange(days) : presetRange(rangeKey, hour * HOUR + 1)), [rangeKey, days, hour]);
  const scope: TrafficScope | undefined = kind === 'site' ? (siteId === null ? undefined : { kind, siteId }) : kind === 'top' ? { kind, limit } : { kind };
  const enabled = scope !== undefined && range !== undefined;
  const chart = useChannelQuery(['traffic:chart', scope, range], (api) => api.traffic.chart({ scope: scope!, from: range!.from, to: range!.to }), {
    enabled,
    placeholderData: keepPreviousData,
    refetchInterval: 60_000,
  });
  // The previous chart stays on screen while the next one loads (marked as not current), but not when the page
  // is waiting for a choice: a stale 24 h chart under "pick the days" would read as the answer to the custom range.
  const answer = enabled ? chart.data : undefined;
  const current = answer !== undefined && !chart.isPlaceholderData;
  const cache = answer ? cacheText(answer.cache) : undefined;
  return (
    <Stack gap="lg" data-testid="page-traffic">
      <PageHeader title="Traffic" subtitle="Page views and visitors as the application's charts read them: the table for the range, provisional windows, Strata's chart cache">
        {chart.isFetching && <Loader size="xs" />}
      </PageHeader>
      <Paper withBorder radius="md" p="sm">
        <Group gap="md" align="flex-end">
          <SegmentedControl
            size="xs"
            value={kind}
            onChange={(value) => setKind(value as ScopeKind)}
            data={[
              { value: 'site', label: 'Site' },
              { value: 'top', label: 'Top sites' },
              { value: 'cluster', label: 'Cluster' },
            ]}
            data-testid="traffic-scope"
          />
          {kind === 'site' && <SitePicker siteId={siteId} onChange={setSiteId} />}
          {kind === 'top' && <NumberInput size="xs" w={90} min={1} max={100} value={limit} onChange={(value) => setLimit(Math.min(100, Math.max(1, Number(value) || 1)))} aria-label="top sites" data-testid="traffic-top-limit" />}
          <SegmentedControl
            size="xs"
            value={rangeKey}
            onChange={(value) => setRangeKey(value as RangeKey)}
            data={[...Object.entries(TRAFFIC_RANGES).map(([value, { label }]) => ({ value, label })), { value: 'custom', label: 'Custom' }]}
            data-testid="traffic-range"
          />
          {rangeKey === 'custom' && (
            <DatePickerInput type="range" size="xs" w={260} value={days} onChange={(value) => setDays(value as [string | null, string | null])} valueFormat="YYYY-MM-DD" placeholder="first and last day (UTC)" firstDayOfWeek={1} allowSingleDateInRange data-testid="traffic-custom-range" />
          )}
        </Group>
      </Paper>
      {!enabled && (
        <Text size="sm" c="dimmed" data-testid="traffic-choose">
          {scope === undefined ? 'Pick a site: search by its id, or choose one of the busiest.' : 'Pick the first and last day of the range.'}
        </Text>
      )}
      {chart.error && <QueryFailure error={chart.error} what="the chart" stale={answer !== undefined} testId="traffic-failure" />}
      {answer && (
        <>
          <PartialResultBanner missing={answer.shards.failed} what="the chart" testId="traffic-partial" />
          <Stack gap={4} data-testid="traffic-answer" data-table={answer.table} data-cache={answer.cache.state} data-current={String(current)} opacity={current ? 1 : 0.6}>
            <Group gap="xs">
              <Badge variant="light" data-testid="traffic-table">
                {answer.table}
              </Badge>
              <Badge variant="light" color={cache!.colour} data-testid="traffic-cache" title={cache!.detail}>
                {cache!.label}
              </Badge>
              <Text size="xs" c="dimmed" data-testid="traffic-cache-detail">
                {cache!.detail}
              </Text>
            </Group>
            <Text size="sm" data-testid="traffic-reason">
              {answer.reason}
            </Text>
            {answer.provisionalNote && (
              <Text size="xs" c="dimmed" data-testid="traffic-provisional-note">
                {answer.provisionalNote}
              </Text>
            )}
          </Stack>
          <SimpleGrid cols={{ base: 2, md: 4 }}>
            <StatCard label="Page views" value={count(answer.totals.pageViews)} detail={`${answer.from.slice(0, 16).replace('T', ' ')} to ${answer.to.slice(0, 16).replace('T', ' ')} UTC`} testId="traffic-total-views" />
            <StatCard label="Visitors" value={count(answer.totals.visitors)} detail={answer.visitorsMeaning} testId="traffic-total-visitors" />
            <StatCard label="Periods" value={answer.series.length} detail={`one per ${answer.period}`} testId="traffic-periods" />
            <StatCard label="Shards" value={`${answer.shards.answered.length}/${answer.shards.answered.length + answer.shards.failed.length}`} detail={answer.partial ? 'partial: some shards did not answer' : 'every shard asked answered'} alert={answer.partial ? 'orange' : undefined} testId="traffic-shards" />
          </SimpleGrid>
          <TrafficChart answer={answer} />
          {answer.top && (
            <Stack gap={6}>
              <SectionTitle>Top sites</SectionTitle>
              <TopTable answer={answer} />
            </Stack>
          )}
        </>
      )}
      {enabled && !answer && !chart.error && (
        <Center h={200}>
          <Loader size="sm" />
        </Center>
      )}
    </Stack>
  );
}
