import { Alert, Button, Center, Group, Loader, SegmentedControl, Select, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import { TABLE_NAMES } from '../../../../shared/contract';
import type { ShardConversionPlan, ShardPlan } from '../../../../shared/partitions';
import { failureText } from '../../api/failure';
import { LiveIndicator } from '../../components/LiveIndicator';
import { PartialResultBanner, unreachableShards } from '../../components/PartialResultBanner';
import { QueryFailure } from '../../components/QueryFailure';
import { SectionTitle } from '../../components/SectionTitle';
import { formatAge, formatClock } from '../../format';
import { useNow } from '../../hooks/use-now';
import { ApplyConfirm } from './ApplyConfirm';
import { ApplyProgress } from './ApplyProgress';
import { ConvertConfirm, convertible, type ConvertTarget } from './ConvertConfirm';
import { ConvertProgress } from './ConvertProgress';
import { shortTable } from './partition-view';
import { PartitionPlanView } from './PartitionPlanView';
import { PartitionTable, type PickedPartition } from './PartitionTable';
import { PartitionTimeline } from './PartitionTimeline';
import { PartitionWarnings } from './PartitionWarnings';
import { useApplyPartitions, useConversionPlan, useConversionProgress, useConvertTable, usePartitionList, usePartitionProgress, usePlanPartitions } from './use-partitions';
import { PageHeader } from '../../components/PageHeader';

const ALL = 'all';

function CountedAt({ at, fetching }: { at: number; fetching: boolean }) {
  const now = useNow();
  return (
    <Group gap={8} data-testid="partitions-counted" data-updated-at={new Date(at).toISOString()}>
      {fetching && <Loader size={12} />}
      <Text size="sm" c="dimmed">
        Exact counts taken{' '}
        <Text span ff="monospace" c="var(--mantine-color-text)" inherit>
          {formatClock(new Date(at).toISOString())}
        </Text>{' '}
        ({formatAge(Math.max(0, (now - at) / 1000))}) · not refreshed by themselves
      </Text>
    </Group>
  );
}

/** Time-range partitions of the analytics tables per shard: timeline, rows and sizes, warnings, plan and apply. */
export function PartitionsPage() {
  const [exact, setExact] = useState(false);
  const [shardFilter, setShardFilter] = useState<string>(ALL);
  const [tableFilter, setTableFilter] = useState<string>(ALL);
  const [picked, setPicked] = useState<PickedPartition | undefined>();
  const [confirming, setConfirming] = useState(false);
  const [applyTargets, setApplyTargets] = useState<ShardPlan[] | undefined>();
  const list = usePartitionList(exact);
  const plan = usePlanPartitions();
  const apply = useApplyPartitions();
  const progress = usePartitionProgress();
  const [convertTarget, setConvertTarget] = useState<ConvertTarget | undefined>();
  const [converted, setConverted] = useState<{ table: string; shards: ShardConversionPlan[] } | undefined>();
  const convertPlan = useConversionPlan();
  const convert = useConvertTable();
  const conversionProgress = useConversionProgress(converted?.table);
  const report = list.data;

  const shards = report?.shards.filter((shard) => shardFilter === ALL || String(shard.index) === shardFilter) ?? [];
  const tables = TABLE_NAMES.filter((table) => tableFilter === ALL || table === tableFilter);
  // Apply always confirms against a plan made when the dialog opens, never one left on screen from earlier.
  const openApply = () => {
    apply.reset();
    setConfirming(true);
    plan.mutate();
  };
  const confirmApply = () => {
    if (!plan.data) return;
    progress.reset();
    setApplyTargets(plan.data.shards);
    setConfirming(false);
    // A fresh plan afterwards shows what is left to do: nothing, unless something failed.
    apply.mutate({ confirm: true }, { onSuccess: () => plan.mutate() });
  };
  // Like Apply: the dialog shows a plan of that table on that shard made when it opens.
  const openConvert = (shard: number, table: string) => {
    convertPlan.reset();
    setConvertTarget({ shard, table });
    convertPlan.mutate({ table, shards: [shard] });
  };
  const confirmConvert = () => {
    const target = convertTarget;
    if (!convertPlan.data || !target) return;
    const shards = convertible(convertPlan.data);
    conversionProgress.reset();
    convert.reset();
    setConverted({ table: target.table, shards });
    setConvertTarget(undefined);
    convert.mutate({ table: target.table, shards: shards.map((shard) => shard.index), confirm: true });
  };
  const pick = (shard: number, table: string, partition: string) => {
    setShardFilter(String(shard));
    setTableFilter(table);
    setPicked({ shard, table, partition });
  };

  return (
    <Stack gap="lg" data-testid="page-partitions">
      <PageHeader title="Partitions" subtitle="Time-range partitions of the analytics tables on every shard, with rows and sizes · future partitions kept ahead · times in UTC">
        {report && (report.exact ? <CountedAt at={list.dataUpdatedAt} fetching={list.isFetching} /> : <LiveIndicator testId="partitions-updated" updatedAt={list.dataUpdatedAt} failing={list.error !== null} />)}
      </PageHeader>
      {list.error && <QueryFailure testId="partitions-error" error={list.error} what="the partitions" stale={report !== undefined} />}
      <PartialResultBanner testId="partitions-partial" missing={unreachableShards(report?.shards ?? [])} what="the partition list" />
      {report && <PartitionWarnings report={report} onConvert={openConvert} converting={convert.isPending} />}
      {convert.error && (
        <Alert color="red" variant="light" title={failureText(convert.error, 'the table conversion').title} data-testid="convert-refusal-alert">
          {convert.error.message}
        </Alert>
      )}
      {converted && (
        <ConvertProgress table={converted.table} targets={converted.shards} byShard={conversionProgress.byShard} received={conversionProgress.received} report={convert.data} running={convert.isPending} refused={convert.error !== null} />
      )}
      <Group gap="md" align="flex-end" wrap="wrap">
        <Select
          label="Shard"
          w={160}
          value={shardFilter}
          onChange={(value) => setShardFilter(value ?? ALL)}
          allowDeselect={false}
          data={[{ value: ALL, label: 'All shards' }, ...(report?.shards.map((shard) => ({ value: String(shard.index), label: shard.name })) ?? [])]}
          data-testid="partition-shard"
        />
        <Stack gap={4}>
          <Text size="sm" fw={500}>
            Table
          </Text>
          <SegmentedControl
            value={tableFilter}
            onChange={setTableFilter}
            data={[{ value: ALL, label: 'all tables' }, ...TABLE_NAMES.map((table) => ({ value: table, label: shortTable(table) }))]}
            data-testid="partition-table-filter"
          />
        </Stack>
        <Stack gap={4}>
          <Text size="sm" fw={500}>
            Rows
          </Text>
          <SegmentedControl
            value={exact ? 'exact' : 'estimate'}
            onChange={(value) => setExact(value === 'exact')}
            data={[
              { value: 'estimate', label: 'estimated' },
              { value: 'exact', label: 'exact (COUNT)' },
            ]}
            data-testid="partition-rows-mode"
          />
        </Stack>
        <Button variant="default" onClick={() => void list.refetch()} loading={list.isFetching} data-testid="partitions-refresh">
          {exact ? 'Count again' : 'Refresh'}
        </Button>
        <Text size="xs" c="dimmed" maw={360} mb={4}>
          Estimates come from information_schema and stay 0 until the server samples the table; exact counts read every row.
        </Text>
      </Group>
      {list.isPending && (
        <Center h={200}>
          <Loader size="sm" />
        </Center>
      )}
      {report && (
        <Stack gap={6} data-testid="partition-view" data-exact={report.exact}>
          <SectionTitle>Timeline</SectionTitle>
          <PartitionTimeline report={report} shards={shards} tables={tables} onPick={pick} />
          <SectionTitle
            right={
              picked && (
                <Text size="xs" c="dimmed">
                  picked {picked.partition} of {picked.table} on shard {picked.shard}
                </Text>
              )
            }
          >
            Partitions
          </SectionTitle>
          <PartitionTable shards={shards} tables={tables} exact={report.exact} picked={picked} />
        </Stack>
      )}
      <Stack gap="sm">
        <SectionTitle>Maintenance</SectionTitle>
        <Group gap="sm">
          <Button variant="default" onClick={() => plan.mutate()} loading={plan.isPending && !confirming} disabled={apply.isPending} data-testid="partitions-plan">
            Plan
          </Button>
          <Button onClick={openApply} disabled={apply.isPending} data-testid="partitions-apply">
            Apply…
          </Button>
          <Text size="xs" c="dimmed">
            Plan shows the exact SQL each shard would run to keep its partitions ahead, changing nothing. Apply asks first, then runs it shard by shard in parallel.
          </Text>
        </Group>
        {plan.error && !confirming && (
          <Alert color="red" variant="light" title={failureText(plan.error, 'the partition plan').title} data-testid="partition-plan-refusal">
            {plan.error.message}
          </Alert>
        )}
        {apply.error && (
          <Alert color="red" variant="light" title={failureText(apply.error, 'the partition apply').title} data-testid="partition-apply-refusal">
            {apply.error.message}
          </Alert>
        )}
        {applyTargets && <ApplyProgress targets={applyTargets} byShard={progress.byShard} received={progress.received} report={apply.data} running={apply.isPending} refused={apply.error !== null} />}
        {plan.data && !plan.isPending && <PartitionPlanView plan={plan.data} />}
      </Stack>
      <ConvertConfirm target={convertTarget} plan={convertPlan.isPending ? undefined : convertPlan.data} planError={convertPlan.error} onClose={() => setConvertTarget(undefined)} onConfirm={confirmConvert} />
      <ApplyConfirm opened={confirming} plan={plan.isPending ? undefined : plan.data} planError={plan.error} onClose={() => setConfirming(false)} onConfirm={confirmApply} />
    </Stack>
  );
}
