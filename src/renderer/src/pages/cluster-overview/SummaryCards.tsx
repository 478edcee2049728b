import { Paper, SimpleGrid, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import type { ClusterStatus } from '../../../../shared/contract';
import { formatLatency, formatRowEstimate } from '../../format';

function Card({ label, value, detail, alert }: { label: string; value: ReactNode; detail: string; alert?: boolean }) {
  return (
    <Paper withBorder radius="md" px="md" py="sm">
      <Text size="xs" c="dimmed" tt="uppercase" fw={600} lts={0.5}>
        {label}
      </Text>
      <Text size="xl" fw={700} ff="monospace" c={alert ? 'red.5' : undefined}>
        {value}
      </Text>
      <Text size="xs" c="dimmed" truncate>
        {detail}
      </Text>
    </Paper>
  );
}

export function SummaryCards({ status }: { status: ClusterStatus }) {
  const up = status.shards.filter((shard) => shard.reachable);
  const totalRows = up.reduce((sum, shard) => sum + shard.tables.reduce((rows, table) => rows + table.estimatedRows, 0), 0);
  const slowest = up.reduce<(typeof up)[number] | undefined>((worst, shard) => ((shard.latencyMs ?? 0) > (worst?.latencyMs ?? -1) ? shard : worst), undefined);
  return (
    <SimpleGrid cols={{ base: 2, md: 4 }} spacing="md">
      <Card
        label="Shards up"
        value={`${up.length} / ${status.shards.length}`}
        detail={up.length === status.shards.length ? 'all answering' : `${status.shards.length - up.length} not answering`}
        alert={up.length < status.shards.length}
      />
      <Card label="Redis" value={status.redis.reachable ? 'up' : 'DOWN'} detail={status.redis.url} alert={!status.redis.reachable} />
      <Card label="Estimated rows" value={formatRowEstimate(totalRows)} detail={`all tables on ${up.length} reachable shard${up.length === 1 ? '' : 's'}`} />
      <Card label="Slowest round trip" value={formatLatency(slowest?.latencyMs)} detail={slowest ? slowest.name : 'no shard answering'} />
    </SimpleGrid>
  );
}
