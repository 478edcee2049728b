import { Alert, Button, Center, Group, Loader, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import type { PruneReport } from '../../../../shared/retention';
import { failureText } from '../../api/failure';
import { LiveIndicator } from '../../components/LiveIndicator';
import { PartialResultBanner } from '../../components/PartialResultBanner';
import { QueryFailure } from '../../components/QueryFailure';
import { SectionTitle } from '../../components/SectionTitle';
import { PolicyEditor } from './PolicyEditor';
import { PruneConfirm } from './PruneConfirm';
import { PruneProgressCard } from './PruneProgressCard';
import { PruneReportView } from './PruneReportView';
import { RunsTable } from './RunsTable';
import { RECENT_RUNS, useMaintenanceRuns, usePruneDryRun, usePruneNow, usePruneProgress, useRetentionPolicy } from './use-retention';
import { PageHeader } from '../../components/PageHeader';

/** How long each table keeps its rows, what a prune would remove and keep back, pruning now, and the latest runs. */
export function RetentionPage() {
  const [confirming, setConfirming] = useState(false);
  const [pruned, setPruned] = useState<PruneReport | undefined>();
  const policy = useRetentionPolicy();
  const runs = useMaintenanceRuns();
  const dryRun = usePruneDryRun();
  const prune = usePruneNow();
  const progress = usePruneProgress();
  const failing = policy.error !== null || runs.error !== null;
  const updatedAt = Math.min(...[policy, runs].map((query) => query.dataUpdatedAt).filter((at) => at > 0));

  // Like Apply on the Partitions page: the confirmation always shows a dry run made as it opens.
  const openPrune = () => {
    prune.reset();
    setConfirming(true);
    dryRun.mutate({});
  };
  const confirmPrune = () => {
    if (!dryRun.data) return;
    progress.reset();
    setPruned(dryRun.data);
    setConfirming(false);
    // The result lists what went and what was kept back, so the older dry run would only repeat it.
    prune.mutate({ confirm: true }, { onSuccess: () => dryRun.reset() });
  };

  return (
    <Stack gap="lg" data-testid="page-retention">
      <PageHeader title="Retention" subtitle="How long each analytics table keeps its rows; pruning never removes a window the next level has not rolled up · times in UTC">
        {Number.isFinite(updatedAt) && <LiveIndicator testId="retention-updated" updatedAt={updatedAt} failing={failing} />}
      </PageHeader>
      {policy.error && <QueryFailure testId="policy-error" error={policy.error} what="the retention policy" stale={policy.data !== undefined} />}
      {policy.isPending && (
        <Center h={160}>
          <Loader size="sm" />
        </Center>
      )}
      {policy.data && <PolicyEditor entry={policy.data} />}
      <Stack gap="sm">
        <SectionTitle>Prune</SectionTitle>
        <Group gap="sm">
          <Button variant="default" onClick={() => dryRun.mutate({})} loading={dryRun.isPending && !confirming} disabled={prune.isPending} data-testid="prune-dry-run">
            Dry run
          </Button>
          <Button color="red" onClick={openPrune} disabled={prune.isPending} data-testid="prune-now">
            Prune now…
          </Button>
          <Text size="xs" c="dimmed">
            The dry run changes nothing. Prune now asks first, then drops whole expired partitions and deletes the rest in batches, shards in parallel.
          </Text>
        </Group>
        {dryRun.error && !confirming && (
          <Alert color="red" variant="light" title={failureText(dryRun.error, 'the dry run').title} data-testid="dry-run-refusal">
            {dryRun.error.message}
          </Alert>
        )}
        {prune.error && (
          <Alert color="red" variant="light" title={failureText(prune.error, 'the prune').title} data-testid="prune-refusal">
            {prune.error.message}
          </Alert>
        )}
        {pruned && <PruneProgressCard plan={pruned} latest={progress.latest} received={progress.received} running={prune.isPending} failed={prune.error !== null || prune.data?.ok === false} />}
        {prune.data && <PruneReportView report={prune.data} />}
        {dryRun.data && !dryRun.isPending && <PruneReportView report={dryRun.data} />}
      </Stack>
      <Stack gap={6}>
        <SectionTitle
          right={
            <Text size="xs" c="dimmed">
              newest {RECENT_RUNS}, from every host
            </Text>
          }
        >
          Recent prune runs
        </SectionTitle>
        {runs.error && <QueryFailure testId="runs-error" error={runs.error} what="the prune runs" stale={runs.data !== undefined} />}
        <PartialResultBanner testId="runs-partial" missing={runs.data?.unreadShards ?? []} what="the prune runs" />
        {runs.data && <RunsTable runs={runs.data.runs} />}
      </Stack>
      <PruneConfirm opened={confirming} plan={dryRun.isPending ? undefined : dryRun.data} planError={dryRun.error} onClose={() => setConfirming(false)} onConfirm={confirmPrune} />
    </Stack>
  );
}
