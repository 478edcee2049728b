import { Alert, Button, Group, Modal, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import type { BackfillRequest } from '../../../../shared/backfill';
import { failureText } from '../../api/failure';
import { QueryFailure } from '../../components/QueryFailure';
import { SectionTitle } from '../../components/SectionTitle';
import { formatDuration, formatUtc } from '../../format';
import { BackfillForm, defaultValues, fromUtcWallTime, toRequest } from './BackfillForm';
import { PlanView } from './PlanView';
import { BackfillProgressCard } from './BackfillProgressCard';
import { RecentBackfills } from './RecentBackfills';
import { useBackfillActions, useBackfillProgress, useBackfills, usePlanBackfill } from './use-backfill';
import { PageHeader } from '../../components/PageHeader';

const pickedTime = (value: string | null) => (value === null ? 'not picked' : formatUtc(fromUtcWallTime(value).toISOString()));

/** Recompute a range of rollup windows: dry run, start after a confirmation, live progress with Cancel, Resume. */
export function BackfillPage() {
  const [values, setValues] = useState(() => defaultValues(Date.now()));
  const [confirming, setConfirming] = useState(false);
  const [trackedId, setTrackedId] = useState<number | undefined>();
  const [formProblem, setFormProblem] = useState<string | undefined>();
  const plan = usePlanBackfill();
  const actions = useBackfillActions();
  const backfills = useBackfills();
  const progress = useBackfillProgress();
  const shown = trackedId !== undefined ? progress.latest.get(trackedId) : undefined;

  const withRequest = (then: (request: BackfillRequest) => void) => {
    const checked = toRequest(values);
    if ('problem' in checked) {
      setFormProblem(checked.problem);
      return;
    }
    setFormProblem(undefined);
    then(checked.request);
  };
  const dryRun = () => withRequest((request) => plan.mutate(request));
  const start = () =>
    withRequest((request) =>
      actions.start.mutate(request, {
        onSuccess: (record) => {
          setTrackedId(record.id);
          setConfirming(false);
        },
      }),
    );
  const resume = (id: number) => actions.resume.mutate(id, { onSuccess: (record) => setTrackedId(record.id) });
  const refusal = [plan.error, actions.start.error, actions.resume.error, actions.cancel.error].find(Boolean);
  const refusalText = refusal ? failureText(refusal, 'the backfill') : undefined;

  return (
    <Stack gap="lg" data-testid="page-backfill">
      <PageHeader title="Backfill" subtitle="Recompute rollup windows from their source, window by window; resumable after a crash · times in UTC" />
      <BackfillForm
        values={values}
        onChange={(next) => {
          setValues(next);
          plan.reset();
        }}
        onDryRun={dryRun}
        onStart={() => {
          actions.start.reset();
          setConfirming(true);
        }}
        busy={plan.isPending || actions.start.isPending}
      />
      {formProblem && (
        <Alert color="orange" variant="light" data-testid="form-problem">
          {formProblem}
        </Alert>
      )}
      {refusalText && !confirming && (
        <Alert color="red" variant="light" title={refusalText.title} data-testid="backfill-refusal">
          {refusalText.message}
        </Alert>
      )}
      {shown && <BackfillProgressCard progress={shown} received={progress.received} onCancel={() => actions.cancel.mutate(shown.backfillId)} cancelling={actions.cancel.isPending} />}
      {plan.data && <PlanView plan={plan.data} />}
      <Stack gap={6}>
        <SectionTitle>Recent backfills</SectionTitle>
        {backfills.error && <QueryFailure testId="backfills-error" error={backfills.error} what="the backfills" stale={backfills.data !== undefined} />}
        {backfills.data && (
          <RecentBackfills
            records={backfills.data}
            onResume={resume}
            resuming={actions.resume.isPending ? actions.resume.variables : undefined}
            onCancel={(id) => actions.cancel.mutate(id)}
            cancelling={actions.cancel.isPending ? actions.cancel.variables : undefined}
          />
        )}
      </Stack>
      <Modal opened={confirming} onClose={() => setConfirming(false)} title={<Text fw={700}>Start this backfill?</Text>} centered data-testid="backfill-confirm">
        <Stack gap="md">
          <Text size="sm">
            Rewrites the <b>{values.level}</b> windows covering{' '}
            <Text span ff="monospace" inherit>
              {pickedTime(values.from)} – {pickedTime(values.to)}
            </Text>{' '}
            on {values.shards.trim() === '' ? 'every shard' : `shards ${values.shards}`}
            {values.cascade ? ', then the days and months above them where their source is complete' : ''}.
          </Text>
          {plan.data && (
            <Text size="sm" c="dimmed">
              The dry run found {plan.data.windows.length} windows, about {formatDuration(plan.data.estimatedMs)}.
            </Text>
          )}
          <Alert color="orange" variant="light">
            Each window is deleted and recomputed in one transaction; readers see either the old or the new figures. Cancel rolls back only the window in progress.
          </Alert>
          {actions.start.error && (
            <Text size="sm" c="red.4" data-testid="confirm-refusal">
              {failureText(actions.start.error, 'the backfill').line}
            </Text>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(false)}>
              Not now
            </Button>
            <Button loading={actions.start.isPending} onClick={start} data-testid="backfill-confirm-start">
              Start backfill
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
