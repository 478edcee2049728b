import { Center, Loader, SegmentedControl, SimpleGrid, Stack, Table, Text } from '@mantine/core';
import { useState } from 'react';
import type { AlertRule } from '../../../../shared/alerts';
import { formatMetricValue, MONITOR_RANGES, type MetricName, type MonitorRange, type MonitorSeriesReport, type MonitorShard, type MonitorSnapshot } from '../../../../shared/monitor';
import { LiveIndicator } from '../../components/LiveIndicator';
import { PageHeader } from '../../components/PageHeader';
import { PartialResultBanner, type MissingShard } from '../../components/PartialResultBanner';
import { QueryFailure } from '../../components/QueryFailure';
import { SectionTitle } from '../../components/SectionTitle';
import { AdvisorPanel } from './AdvisorPanel';
import { DEFAULT_TARGETS, ruleOf, seriesOf } from './figures';
import { ClusterFiguresTable, ShardFiguresTable } from './FiguresTable';
import { LagHeatmap } from './LagHeatmap';
import { MetricChart, type ChartLine, type ChartTarget } from './MetricChart';
import { useAlertRules, useMonitorSeries, useMonitorSnapshot } from './use-monitoring';

const RANGE_LABEL: Record<MonitorRange, string> = { '1h': '1 h', '24h': '24 h', '7d': '7 d' };

function missingParts(snapshot: MonitorSnapshot | undefined): MissingShard[] {
  if (!snapshot) return [];
  const shards: MissingShard[] = snapshot.shards.filter((shard) => !shard.reachable).map((shard) => ({ shardName: shard.name, problem: shard.problem }));
  return snapshot.redisReachable ? shards : [...shards, { shardName: 'Redis' }];
}

function shardLines(report: MonitorSeriesReport | undefined, snapshot: MonitorSnapshot, metric: MetricName, only?: (shard: MonitorShard) => boolean): ChartLine[] {
  return snapshot.shards
    .filter((shard) => only?.(shard) ?? true)
    .map((shard) => ({ label: shard.name, points: seriesOf(report?.series, metric, `shard:${shard.index}`)?.points ?? [] }));
}

/** The line a chart draws for a metric: the threshold of the rule that alerts on it. */
function targetOf(rules: readonly AlertRule[] | undefined, metric: MetricName): ChartTarget | undefined {
  const rule = ruleOf(rules, metric);
  const value = rule?.threshold ?? DEFAULT_TARGETS[metric];
  if (value === undefined || (rule && !rule.enabled)) return undefined;
  return { value, label: `target ${formatMetricValue(metric, value)}` };
}

/** p50/p95/p99 of both latencies per shard over the range, from the recorded samples. */
function PercentileTable({ report, snapshot }: { report: MonitorSeriesReport | undefined; snapshot: MonitorSnapshot }) {
  const rows = snapshot.shards.flatMap((shard) =>
    (['chart.latency_ms', 'shard.latency_ms'] as const).map((metric) => ({ shard, metric, series: seriesOf(report?.series, metric, `shard:${shard.index}`) })),
  );
  const cell = (metric: MetricName, value: number | null | undefined) => (value === null || value === undefined ? '—' : formatMetricValue(metric, value));
  return (
    <Table fz="xs" verticalSpacing={2} horizontalSpacing="xs" mt={4} mb="xs" data-testid="latency-percentiles">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Shard</Table.Th>
          <Table.Th>Latency</Table.Th>
          <Table.Th ta="right">p50</Table.Th>
          <Table.Th ta="right">p95</Table.Th>
          <Table.Th ta="right">p99</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {rows.map(({ shard, metric, series }) => (
          <Table.Tr key={`${shard.index}-${metric}`} data-testid={`percentiles-${metric}-${shard.index}`}>
            <Table.Td>{shard.name}</Table.Td>
            <Table.Td c="dimmed">{metric === 'chart.latency_ms' ? 'chart queries' : 'round trip'}</Table.Td>
            <Table.Td ta="right" ff="monospace">
              {cell(metric, series?.p50)}
            </Table.Td>
            <Table.Td ta="right" ff="monospace">
              {cell(metric, series?.p95)}
            </Table.Td>
            <Table.Td ta="right" ff="monospace">
              {cell(metric, series?.p99)}
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

const NOT_CONFIGURED = 'not configured: the profile names no node exporter for this shard (shards[].nodeExporterUrl)';

/** CPU or memory: only shards with a node exporter have a line; the others say they are not configured, never 0. */
function HostChart({ metric, title, report, snapshot, rules, range }: { metric: 'host.cpu_ratio' | 'host.memory_ratio'; title: string; report: MonitorSeriesReport; snapshot: MonitorSnapshot; rules: readonly AlertRule[] | undefined; range: MonitorRange }) {
  const unconfigured = snapshot.shards.filter((shard) => !shard.hostMetricsConfigured);
  const testId = metric === 'host.cpu_ratio' ? 'chart-cpu' : 'chart-memory';
  const none = unconfigured.length === snapshot.shards.length;
  return (
    <MetricChart
      title={title}
      metric={metric}
      range={range}
      from={report.from}
      to={report.to}
      lines={shardLines(report, snapshot, metric, (shard) => shard.hostMetricsConfigured)}
      target={targetOf(rules, metric)}
      empty={none ? 'Not configured: the profile names no node exporter for any shard (shards[].nodeExporterUrl), so CPU and memory are not measured.' : undefined}
      testId={testId}
    >
      {!none &&
        unconfigured.map((shard) => (
          <Text key={shard.index} size="xs" c="dimmed" data-testid={`${testId}-not-configured-${shard.index}`}>
            {shard.name}: {NOT_CONFIGURED}
          </Text>
        ))}
    </MetricChart>
  );
}

function Charts({ report, snapshot, rules, range }: { report: MonitorSeriesReport; snapshot: MonitorSnapshot; rules: readonly AlertRule[] | undefined; range: MonitorRange }) {
  const common = { range, from: report.from, to: report.to };
  const redis = (metric: MetricName): ChartLine[] => [{ label: 'Redis', points: seriesOf(report.series, metric, 'cluster')?.points ?? [] }];
  return (
    <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="sm">
      <MetricChart {...common} title="Slowest dashboard chart query per cycle" metric="chart.latency_ms" lines={shardLines(report, snapshot, 'chart.latency_ms')} target={targetOf(rules, 'chart.latency_ms')} testId="chart-latency">
        <PercentileTable report={report} snapshot={snapshot} />
      </MetricChart>
      <MetricChart {...common} title="Queries per second" metric="shard.qps" lines={shardLines(report, snapshot, 'shard.qps')} testId="chart-qps" />
      <MetricChart {...common} title="Connections of max_connections" metric="shard.connections_ratio" lines={shardLines(report, snapshot, 'shard.connections_ratio')} target={targetOf(rules, 'shard.connections_ratio')} testId="chart-connections" />
      <MetricChart {...common} title="InnoDB buffer-pool hit ratio" metric="shard.buffer_pool_hit_ratio" lines={shardLines(report, snapshot, 'shard.buffer_pool_hit_ratio')} target={targetOf(rules, 'shard.buffer_pool_hit_ratio')} testId="chart-buffer-pool" />
      <HostChart metric="host.cpu_ratio" title="Host CPU" report={report} snapshot={snapshot} rules={rules} range={range} />
      <HostChart metric="host.memory_ratio" title="Host memory" report={report} snapshot={snapshot} rules={rules} range={range} />
      <MetricChart {...common} title="Redis latency" metric="redis.latency_ms" lines={redis('redis.latency_ms')} target={targetOf(rules, 'redis.latency_ms')} testId="chart-redis-latency" />
      <MetricChart {...common} title="Redis memory of maxmemory" metric="redis.memory_ratio" lines={redis('redis.memory_ratio')} target={targetOf(rules, 'redis.memory_ratio')} testId="chart-redis-memory" />
      <MetricChart {...common} title="Redis keyspace hit ratio" metric="redis.hit_ratio" lines={redis('redis.hit_ratio')} target={targetOf(rules, 'redis.hit_ratio')} testId="chart-redis-hit-ratio" />
      <MetricChart {...common} title="Ingestion queue depth" metric="queue.depth" lines={[{ label: 'queue', points: seriesOf(report.series, 'queue.depth', 'cluster')?.points ?? [] }]} target={targetOf(rules, 'queue.depth')} testId="chart-queue-depth" />
    </SimpleGrid>
  );
}

/** Every shard's health over time against its targets, Redis and the queue, how far rollups lag, and the config advisor. */
export function MonitoringPage() {
  const [range, setRange] = useState<MonitorRange>('1h');
  const snapshot = useMonitorSnapshot();
  const series = useMonitorSeries(range);
  const rules = useAlertRules();
  const current = snapshot.data;
  return (
    <Stack gap="lg" data-testid="page-monitoring">
      <PageHeader title="Monitoring" subtitle="Probe cycles over every shard, Redis and the queue, against the alert targets · times in UTC">
        {snapshot.dataUpdatedAt > 0 && current && <LiveIndicator testId="monitoring-updated" updatedAt={Date.parse(current.at)} failing={snapshot.error !== null} verb="measured" />}
      </PageHeader>
      {snapshot.error && <QueryFailure testId="snapshot-error" error={snapshot.error} what="the latest probe cycle" stale={current !== undefined} />}
      {series.error && <QueryFailure testId="series-error" error={series.error} what="the recorded samples" stale={series.data !== undefined} />}
      <PartialResultBanner testId="monitoring-partial" missing={missingParts(current)} what="the probe cycle" />
      {!current ? (
        !snapshot.error && (
          <Center h={200}>
            <Loader size="sm" />
          </Center>
        )
      ) : (
        <>
          <Stack gap={6}>
            <SectionTitle
              right={
                <Text size="xs" c="dimmed" data-testid="cycle-facts">
                  cycle at {current.at.slice(11, 19)} UTC · {Math.round(current.durationMs)} ms · {current.queries} queries · {current.recorded ? 'recorded' : 'not recorded (another process holds the lease)'}
                </Text>
              }
            >
              Now
            </SectionTitle>
            <ShardFiguresTable snapshot={current} rules={rules.data} />
            <ClusterFiguresTable snapshot={current} rules={rules.data} />
          </Stack>
          <Stack gap={6}>
            <SectionTitle>Watermark lag</SectionTitle>
            <LagHeatmap snapshot={current} rules={rules.data} />
          </Stack>
          <Stack gap={6}>
            <SectionTitle
              right={
                <SegmentedControl
                  size="xs"
                  value={range}
                  onChange={(value) => setRange(value as MonitorRange)}
                  data={MONITOR_RANGES.map((value) => ({ value, label: RANGE_LABEL[value] }))}
                  data-testid="range-picker"
                />
              }
            >
              Over time
            </SectionTitle>
            {series.data ? (
              <div data-testid="charts" data-range={series.data.range}>
                <Charts report={series.data} snapshot={current} rules={rules.data} range={series.data.range} />
              </div>
            ) : (
              !series.error && (
                <Center h={200}>
                  <Loader size="sm" />
                </Center>
              )
            )}
          </Stack>
          <Stack gap={6}>
            <SectionTitle>Config advisor</SectionTitle>
            <AdvisorPanel />
          </Stack>
        </>
      )}
    </Stack>
  );
}
