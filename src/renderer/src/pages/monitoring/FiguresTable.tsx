import { Paper, ScrollArea, Table, Text } from '@mantine/core';
import type { AlertRule } from '../../../../shared/alerts';
import { METRICS, type MetricName, type MonitorSnapshot } from '../../../../shared/monitor';
import { breaches, figureOf, figureText, ruleOf, targetText } from './figures';

const SHARD_ROWS: MetricName[] = [
  'shard.up',
  'chart.latency_ms',
  'shard.latency_ms',
  'shard.qps',
  'shard.connections_ratio',
  'shard.buffer_pool_hit_ratio',
  'shard.row_lock_waits',
  'shard.replication_lag_s',
  'host.cpu_ratio',
  'host.memory_ratio',
];

const CLUSTER_ROWS: MetricName[] = ['redis.up', 'redis.latency_ms', 'redis.memory_ratio', 'redis.hit_ratio', 'redis.evictions', 'redis.clients', 'queue.depth', 'probe.error_ratio', 'backup.verified_age_s'];

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The latest cycle's figure of every shard metric, one column per shard, with the target each alerts on. */
export function ShardFiguresTable({ snapshot, rules }: { snapshot: MonitorSnapshot; rules: readonly AlertRule[] | undefined }) {
  return (
    <Paper withBorder radius="md" data-testid="shard-figures">
      <ScrollArea type="auto">
        <Table verticalSpacing={5} horizontalSpacing="sm" fz="sm" highlightOnHover style={{ whiteSpace: 'nowrap' }}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Figure</Table.Th>
              {snapshot.shards.map((shard) => (
                <Table.Th key={shard.index} ta="right">
                  {shard.name}
                </Table.Th>
              ))}
              <Table.Th>Target</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {SHARD_ROWS.map((metric) => {
              const rule = ruleOf(rules, metric);
              return (
                <Table.Tr key={metric} data-testid={`figure-row-${metric}`}>
                  <Table.Td>{capitalised(METRICS[metric].label)}</Table.Td>
                  {snapshot.shards.map((shard) => {
                    const figure = figureOf(snapshot, metric, `shard:${shard.index}`);
                    const alerting = breaches(figure, rule);
                    return (
                      <Table.Td key={shard.index} ta="right" ff="monospace" c={alerting ? 'red.4' : figure?.value === null ? 'dimmed' : undefined} fw={alerting ? 700 : undefined} data-testid={`figure-${metric}-${shard.index}`}>
                        {figure ? figureText(figure) : shard.reachable ? '—' : 'unreachable'}
                      </Table.Td>
                    );
                  })}
                  <Table.Td c="dimmed">{targetText(rule)}</Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </ScrollArea>
    </Paper>
  );
}

/** Redis, the ingestion queue, the probes' error rate and the backups: figures of the whole cluster. */
export function ClusterFiguresTable({ snapshot, rules }: { snapshot: MonitorSnapshot; rules: readonly AlertRule[] | undefined }) {
  return (
    <Paper withBorder radius="md" data-testid="cluster-figures">
      <Table verticalSpacing={5} horizontalSpacing="sm" fz="sm" highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Figure</Table.Th>
            <Table.Th ta="right">Now</Table.Th>
            <Table.Th>Target</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {CLUSTER_ROWS.map((metric) => {
            const figure = figureOf(snapshot, metric, 'cluster');
            const rule = ruleOf(rules, metric);
            const alerting = breaches(figure, rule);
            return (
              <Table.Tr key={metric}>
                <Table.Td>{capitalised(METRICS[metric].label)}</Table.Td>
                <Table.Td ta="right" ff="monospace" c={alerting ? 'red.4' : figure?.value === null ? 'dimmed' : undefined} fw={alerting ? 700 : undefined} data-testid={`figure-${metric}`}>
                  {figureText(figure)}
                </Table.Td>
                <Table.Td c="dimmed">
                  <Text size="sm" inherit>
                    {targetText(rule)}
                  </Text>
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Paper>
  );
}
