import { Alert, Center, Loader, Stack, Title } from '@mantine/core';
import { failureText } from '../../api/failure';
import { LiveIndicator } from '../../components/LiveIndicator';
import { HealthBanner } from './HealthBanner';
import { RedisTable } from './RedisTable';
import { ShardTable } from './ShardTable';
import { SummaryCards } from './SummaryCards';
import { useClusterStatus } from './use-cluster-status';
import { PageHeader } from '../../components/PageHeader';

export function ClusterOverviewPage() {
  const { data, error, isPending } = useClusterStatus();
  return (
    <Stack gap="lg" data-testid="page-cluster-overview">
      <PageHeader title="Cluster overview" subtitle={data ? `Profile ${data.profileName} · ${data.shards.length} shards and Redis` : 'Reading the cluster…'}>
        {data && <LiveIndicator updatedAt={Date.parse(data.checkedAt)} failing={error !== null} testId="last-checked" verb="checked" />}
      </PageHeader>
      {error && (
        <Alert data-testid="status-error" color="orange" variant="light" radius="md" title={`Cannot read the cluster status: ${failureText(error, 'the cluster status').title}`}>
          {failureText(error, 'the cluster status').message}
          {data ? ' The figures below are from the last successful check.' : ''}
        </Alert>
      )}
      {isPending && (
        <Center h={200}>
          <Loader size="sm" />
        </Center>
      )}
      {data && (
        <>
          <HealthBanner status={data} />
          <SummaryCards status={data} />
          <Stack gap={6}>
            <Title order={5} c="dimmed" tt="uppercase" fz="xs" lts={0.6}>
              Shards
            </Title>
            <ShardTable shards={data.shards} />
          </Stack>
          <Stack gap={6}>
            <Title order={5} c="dimmed" tt="uppercase" fz="xs" lts={0.6}>
              Cache
            </Title>
            <RedisTable redis={data.redis} />
          </Stack>
        </>
      )}
    </Stack>
  );
}
