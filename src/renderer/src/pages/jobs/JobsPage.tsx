import { Center, Loader, SegmentedControl, Stack, Text } from '@mantine/core';
import { useMemo, useState } from 'react';
import { ROLLUP_LEVELS, type RollupLevel } from '../../../../shared/rollup';
import { LiveIndicator } from '../../components/LiveIndicator';
import { PartialResultBanner, unreachableShards } from '../../components/PartialResultBanner';
import { QueryFailure } from '../../components/QueryFailure';
import { SectionTitle } from '../../components/SectionTitle';
import { useSchedules } from '../schedules/use-schedules';
import { AggregationChart } from './AggregationChart';
import { JobsSummary } from './JobsSummary';
import { ReconcilePanel } from './ReconcilePanel';
import { useAlertList } from '../alerts/use-alerts';
import { RunTable, runKey } from './RunTable';
import { RUN_HISTORY_LIMIT, useLeaseStatus, useRuns, useWatermarks } from './use-jobs-data';
import { WatermarkTable } from './WatermarkTable';
import { PageHeader } from '../../components/PageHeader';

type LevelFilter = RollupLevel | 'all';

/** Rollup runs, how long they take, how far each shard's watermarks lag, and who holds the scheduler lease. */
export function JobsPage() {
  const [levelFilter, setLevelFilter] = useState<LevelFilter>('all');
  const runs = useRuns(levelFilter === 'all' ? undefined : levelFilter);
  const watermarks = useWatermarks();
  const lease = useLeaseStatus();
  const schedules = useSchedules();
  const alerts = useAlertList();
  // Runs an alert fired on (aggregation time), from the alerts that are or were firing in the last day.
  const alertedRuns = useMemo(
    () => new Set((alerts.data?.alerts ?? []).flatMap((alert) => (alert.firedAt && alert.link?.kind === 'run' && alert.link.runId !== undefined && alert.link.shard !== undefined ? [runKey(alert.link.shard, alert.link.runId)] : []))),
    [alerts.data],
  );
  const failing = [runs, watermarks, lease].some((query) => query.error !== null);
  // The oldest of the three reads, so "Live" never claims more freshness than the stalest figure has.
  const updatedAt = Math.min(...[runs, watermarks, lease].map((query) => query.dataUpdatedAt).filter((at) => at > 0));
  return (
    <Stack gap="lg" data-testid="page-jobs">
      <PageHeader title="Jobs" subtitle="Rollup runs, aggregation time and watermarks on every shard · times in UTC">
        {Number.isFinite(updatedAt) && <LiveIndicator testId="jobs-updated" updatedAt={updatedAt} failing={failing} />}
      </PageHeader>
      {runs.error && <QueryFailure testId="runs-error" error={runs.error} what="the run history" stale={runs.data !== undefined} />}
      {watermarks.error && <QueryFailure testId="watermarks-error" error={watermarks.error} what="the watermarks" stale={watermarks.data !== undefined} />}
      <PartialResultBanner testId="runs-partial" missing={runs.data?.unreadShards ?? []} what="the run history" />
      <PartialResultBanner testId="watermarks-partial" missing={unreachableShards(watermarks.data ?? [])} what="the watermarks" />
      <JobsSummary runs={runs.data?.runs} lease={lease} />
      <Stack gap={6}>
        <SectionTitle
          right={
            <SegmentedControl
              size="xs"
              value={levelFilter}
              onChange={(value) => setLevelFilter(value as LevelFilter)}
              data={[{ value: 'all', label: 'all levels' }, ...ROLLUP_LEVELS.map((level) => ({ value: level, label: level }))]}
              data-testid="level-filter"
            />
          }
        >
          Aggregation time per window
        </SectionTitle>
        {runs.isPending ? (
          <Center h={280}>
            <Loader size="sm" />
          </Center>
        ) : (
          <AggregationChart runs={runs.data?.runs ?? []} />
        )}
      </Stack>
      <Stack gap={6}>
        <SectionTitle>Watermarks</SectionTitle>
        {watermarks.data ? (
          <WatermarkTable rows={watermarks.data} schedules={schedules.data?.schedules} />
        ) : (
          !watermarks.error && (
            <Center h={120}>
              <Loader size="sm" />
            </Center>
          )
        )}
      </Stack>
      <Stack gap={6}>
        <SectionTitle>Reconciliation</SectionTitle>
        <ReconcilePanel />
      </Stack>
      <Stack gap={6}>
        <SectionTitle
          right={
            <Text size="xs" c="dimmed">
              newest {RUN_HISTORY_LIMIT} windows{levelFilter === 'all' ? '' : ` of the ${levelFilter} level`}
            </Text>
          }
        >
          Run history
        </SectionTitle>
        {runs.data && <RunTable runs={runs.data.runs} alertedRuns={alertedRuns} />}
      </Stack>
    </Stack>
  );
}
