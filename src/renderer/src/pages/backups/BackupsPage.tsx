import { Alert, Anchor, Code, Group, Paper, SimpleGrid, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import type { BackupPlan, BackupRequest, BackupSetRecord, BackupSetState, NewestVerified } from '../../../../shared/backup';
import { failureText } from '../../api/failure';
import { LiveIndicator } from '../../components/LiveIndicator';
import { PageHeader } from '../../components/PageHeader';
import { PlanConfirmModal } from '../../components/PlanConfirmModal';
import { QueryFailure } from '../../components/QueryFailure';
import { SectionTitle } from '../../components/SectionTitle';
import { StateBadge } from '../../components/StateBadge';
import { formatDuration, formatUtc } from '../../format';
import { BackupForm, DEFAULT_FORM, toBackupRequest, type BackupFormValues } from './BackupForm';
import { BackupPlanView } from './BackupPlanView';
import { BackupProgressCard } from './BackupProgressCard';
import { BackupSetsTable } from './BackupSetsTable';
import { RestoreDialog } from './RestoreDialog';
import { VerifyProgressCard } from './VerifyProgressCard';
import { RECENT_SETS, useBackupCancel, useBackupList, useBackupPlan, useBackupProgress, useBackupRestore, useBackupRetention, useBackupRun, useBackupSchedule, useBackupVerify, useVerifyProgress } from './use-backups';

/** What an alert watches: how old each shard's newest verified backup is. */
function NewestVerifiedCard({ entry }: { entry: NewestVerified }) {
  return (
    <Paper withBorder radius="md" p="sm" data-testid={`backup-newest-${entry.shard}`}>
      <Group justify="space-between" gap="xs">
        <Text fw={600}>{entry.shardName}</Text>
        {entry.ageSeconds === null ? <StateBadge state="unknown" label="none verified" /> : <StateBadge state="ok" label="verified" />}
      </Group>
      <Text size="sm" data-testid={`backup-newest-${entry.shard}-age`}>
        {entry.ageSeconds === null ? 'no verified backup' : `${formatDuration(entry.ageSeconds * 1000)} old`}
      </Text>
      <Text size="xs" c="dimmed">
        {entry.setId && entry.takenAt ? `${entry.setId}, taken ${formatUtc(entry.takenAt)} UTC` : 'verify a set to start the clock'}
      </Text>
    </Paper>
  );
}

/** The backup sets of the cluster, backing up now with live progress, verifying, restoring, and the schedule. */
export function BackupsPage() {
  const [form, setForm] = useState<BackupFormValues>(DEFAULT_FORM);
  const [formProblem, setFormProblem] = useState<string | undefined>();
  const [confirming, setConfirming] = useState(false);
  const [started, setStarted] = useState<{ setId: string; plan: BackupPlan } | undefined>();
  const [verifyingSet, setVerifyingSet] = useState<BackupSetRecord | undefined>();
  const [restoringSet, setRestoringSet] = useState<BackupSetRecord | undefined>();
  const list = useBackupList();
  const schedule = useBackupSchedule();
  const retention = useBackupRetention();
  const plan = useBackupPlan();
  const run = useBackupRun();
  const cancel = useBackupCancel();
  const verify = useBackupVerify();
  const restore = useBackupRestore();
  const progress = useBackupProgress();
  const verifyProgress = useVerifyProgress();

  const request = (): BackupRequest | undefined => {
    const parsed = toBackupRequest(form);
    setFormProblem('problem' in parsed ? parsed.problem : undefined);
    return 'request' in parsed ? parsed.request : undefined;
  };
  const dryRun = () => {
    const body = request();
    if (body) plan.mutate({ ...body, dryRun: true });
  };
  // The confirmation always shows a dry run made as it opens, as Prune now does.
  const openBackUp = () => {
    const body = request();
    if (!body) return;
    run.reset();
    setConfirming(true);
    plan.mutate({ ...body, dryRun: true });
  };
  const confirmBackUp = () => {
    const body = request();
    const made = plan.data;
    if (!body || !made) return;
    setConfirming(false);
    progress.reset();
    run.mutate({ ...body, confirm: true }, { onSuccess: (set) => setStarted({ setId: set.id, plan: made }), onSettled: () => plan.reset() });
  };
  const startVerify = (set: BackupSetRecord) => {
    setVerifyingSet(set);
    verifyProgress.reset();
    verify.mutate({ id: set.id });
  };
  const openRestore = (set: BackupSetRecord) => {
    restore.reset();
    setRestoringSet(set);
  };

  const listed = started ? list.data?.sets.find((set) => set.id === started.setId) : undefined;
  const finished = started ? progress.events.finished.get(started.setId) : undefined;
  const setState: BackupSetState = finished?.state ?? (listed && listed.state !== 'running' ? listed.state : cancel.isSuccess ? 'cancelling' : 'running');
  const work = plan.data ? plan.data.shards.filter((shard) => !shard.problem).length : 0;

  return (
    <Stack gap="lg" data-testid="page-backups">
      <PageHeader title="Backups" subtitle="One compressed dump per shard, in parallel, verified by restoring it · times in UTC">
        {list.dataUpdatedAt > 0 && <LiveIndicator testId="backups-updated" updatedAt={list.dataUpdatedAt} failing={list.error !== null} />}
      </PageHeader>
      {list.error && <QueryFailure testId="backups-error" error={list.error} what="the backup catalog" stale={list.data !== undefined} />}
      {list.data && (
        <Stack gap="sm">
          <SectionTitle>Newest verified backup per shard</SectionTitle>
          <SimpleGrid cols={{ base: 2, md: 4 }} spacing="sm">
            {list.data.newestVerified.map((entry) => (
              <NewestVerifiedCard key={entry.shard} entry={entry} />
            ))}
          </SimpleGrid>
        </Stack>
      )}

      <Stack gap="sm">
        <SectionTitle>Back up now</SectionTitle>
        <BackupForm values={form} onChange={setForm} onDryRun={dryRun} onBackUp={openBackUp} busy={(plan.isPending && !confirming) || run.isPending} problem={formProblem} />
        {plan.error && !confirming && (
          <Alert color="red" variant="light" title={failureText(plan.error, 'the dry run').title} data-testid="backup-dry-run-refusal">
            {plan.error.message}
          </Alert>
        )}
        {run.error && (
          <Alert color="red" variant="light" title={failureText(run.error, 'the backup').title} data-testid="backup-refusal">
            {run.error.message}
          </Alert>
        )}
        {plan.data && !plan.isPending && !confirming && <BackupPlanView plan={plan.data} testId="backup-plan" />}
        {started && (
          <BackupProgressCard
            setId={started.setId}
            plan={started.plan}
            events={progress.events.shards}
            state={setState}
            received={progress.received}
            onCancel={() => cancel.mutate(started.setId)}
            cancelling={cancel.isPending}
          />
        )}
        {cancel.error && (
          <Text size="sm" c="red.4" data-testid="backup-cancel-error">
            {failureText(cancel.error, 'the cancel').line}
          </Text>
        )}
      </Stack>

      <Stack gap={6}>
        <SectionTitle
          right={
            <Text size="xs" c="dimmed">
              newest {RECENT_SETS}, from every host
            </Text>
          }
        >
          Backup sets
        </SectionTitle>
        {verifyingSet && <VerifyProgressCard set={verifyingSet} report={verify.data} failure={verify.error} progress={verifyProgress.parts} />}
        {list.data && <BackupSetsTable sets={list.data.sets} verifying={verify.isPending ? verifyingSet?.id : undefined} onVerify={startVerify} onRestore={openRestore} />}
      </Stack>

      <Stack gap={6}>
        <SectionTitle>Schedule and retention</SectionTitle>
        <Text size="sm" data-testid="backup-schedule">
          {schedule.entry
            ? `${schedule.entry.enabled ? 'Runs' : 'Disabled; would run'} at cron ${schedule.entry.cron} (UTC)${schedule.entry.enabled && schedule.entry.nextRuns[0] ? `, next ${formatUtc(schedule.entry.nextRuns[0])}` : ''}, under the scheduler lease, then applies the retention of backups.`
            : 'The backup job is not among the stored schedules yet.'}{' '}
          <Anchor href="#/schedules" data-testid="backup-schedule-link">
            Edit on the Schedules page
          </Anchor>
        </Text>
        {retention.error && <QueryFailure testId="backup-retention-error" error={retention.error} what="the backup retention" stale={retention.data !== undefined} />}
        {retention.data && (
          <Text size="sm" data-testid="backup-retention">
            Retention: {retention.data.description}
            {retention.data.isDefault ? ' (built-in defaults)' : ` (changed by ${retention.data.changedBy ?? 'someone'}${retention.data.changedAt ? ` at ${formatUtc(retention.data.changedAt)} UTC` : ''})`}; change it with{' '}
            <Code>strata backup retention</Code>.
          </Text>
        )}
      </Stack>

      <PlanConfirmModal
        opened={confirming}
        title="Back up now?"
        testId="backup-confirm"
        planName="the dry run"
        planReady={plan.data !== undefined && !plan.isPending}
        planError={plan.error}
        confirmLabel="Back up now"
        confirmId="run"
        canConfirm={work > 0 && !plan.data?.refusal}
        onClose={() => setConfirming(false)}
        onConfirm={confirmBackUp}
      >
        {plan.data && <BackupPlanView plan={plan.data} testId="backup-confirm-plan" />}
      </PlanConfirmModal>
      <RestoreDialog
        set={restoringSet}
        onClose={() => setRestoringSet(undefined)}
        onRestore={(body) => restore.mutate(body)}
        restoring={restore.isPending}
        report={restore.data}
        error={restore.error}
      />
    </Stack>
  );
}
