import { Alert, Badge, Button, Group, Paper, Stack, Table, Text } from '@mantine/core';
import { useState } from 'react';
import type { ReconcileOutcome, ReconcileReport, ReconcileRunRequest, ShardReconcile } from '../../../../shared/reconcile';
import type { RollupLevel } from '../../../../shared/rollup';
import { failureText } from '../../api/failure';
import { useChannelMutation, useChannelQuery } from '../../api/hooks';
import { TONE_COLOUR, type Tone } from '../../colours';
import { UNCLIPPED_BADGE } from '../../components/StateBadge';
import { PlanConfirmModal } from '../../components/PlanConfirmModal';
import { ProblemLine } from '../../components/ProblemLine';
import { formatCount } from '../../format';

const RUNS_KEY = ['reconcile:runs'] as const;
const OUTCOME_TONE: Record<ReconcileOutcome, Tone> = { matched: 'good', repaired: 'good', differs: 'caution', unrepaired: 'warning', failed: 'bad' };
const SOURCE_NAME: Record<RollupLevel, string> = { hourly: 'raw', daily: 'hourly', monthly: 'daily' };

function OutcomeBadge({ outcome, testId }: { outcome: ReconcileOutcome; testId?: string }) {
  const tone = OUTCOME_TONE[outcome];
  return (
    <Badge data-testid={testId} color={TONE_COLOUR[tone]} variant={tone === 'good' ? 'light' : 'filled'} tt="none" radius="sm" styles={UNCLIPPED_BADGE}>
      {outcome}
    </Badge>
  );
}

const windowText = (level: RollupLevel, start: string) => (level === 'hourly' ? start.slice(0, 16).replace('T', ' ') : level === 'daily' ? start.slice(0, 10) : start.slice(0, 7));

/** One shard: how many windows were checked per level, and each one that differed with both totals and what was done. */
function ShardFindings({ shard, testId }: { shard: ShardReconcile; testId: string }) {
  const windows = shard.levels.flatMap((level) => level.windows.map((window) => ({ level: level.level, ...window })));
  const checked = shard.levels.map((level) => `${level.level} ${level.from ? formatCount(level.windowsChecked) : 'not checked'}`).join(' · ');
  return (
    <Stack gap={4} data-testid={`${testId}-shard-${shard.shard}`} data-outcome={shard.outcome}>
      <Group gap="xs">
        <Text size="sm" fw={700}>
          {shard.shardName}
        </Text>
        <OutcomeBadge outcome={shard.outcome} testId={`${testId}-outcome-${shard.shard}`} />
        {!shard.problem && (
          <Text size="xs" c="dimmed">
            windows checked: {checked}
          </Text>
        )}
      </Group>
      {shard.problem && <ProblemLine problem={shard.problem} size="xs" testId={`${testId}-problem-${shard.shard}`} />}
      {windows.length > 0 && (
        <Table fz="xs" withRowBorders={false} verticalSpacing={2}>
          <Table.Tbody>
            {windows.map((window) => (
              <Table.Tr key={`${window.level}-${window.windowStart}`} data-testid={`${testId}-window`} data-level={window.level} data-window-start={window.windowStart} data-action={window.action}>
                <Table.Td>{window.level}</Table.Td>
                <Table.Td>{windowText(window.level, window.windowStart)}</Table.Td>
                <Table.Td>
                  {SOURCE_NAME[window.level]} {formatCount(window.sourcePageViews)} vs {window.level} {formatCount(window.levelPageViews)}
                </Table.Td>
                <Table.Td>{window.finding}</Table.Td>
                <Table.Td>{window.error ? `${window.action}: ${window.error}` : window.action}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}

function ReportView({ report, testId }: { report: ReconcileReport; testId: string }) {
  return (
    <Stack gap="sm" data-testid={testId} data-ok={report.ok}>
      {report.warnings.map((warning) => (
        <Text key={warning} size="xs" c="orange.4">
          {warning}
        </Text>
      ))}
      {report.shards.map((shard) => (
        <ShardFindings key={shard.shard} shard={shard} testId={testId} />
      ))}
    </Stack>
  );
}

/**
 * Reconcile now: a dry run first (what differs, with both totals), then the re-roll after a confirmation, and its
 * result; below, the latest reconciliations any host recorded.
 */
export function ReconcilePanel() {
  const [confirming, setConfirming] = useState(false);
  const dryRun = useChannelMutation((api, request: Record<string, never>) => api.reconcile.plan(request));
  const run = useChannelMutation((api, request: ReconcileRunRequest) => api.reconcile.run(request), { invalidates: RUNS_KEY });
  const history = useChannelQuery(RUNS_KEY, (api) => api.reconcile.runs({ limit: 6 }), { refetchInterval: 10_000 });
  const toReRoll = dryRun.data?.shards.flatMap((shard) => shard.levels.flatMap((level) => level.windows)).filter((window) => window.action === 'would-re-roll').length ?? 0;
  const open = () => {
    dryRun.reset();
    run.reset();
    setConfirming(true);
    dryRun.mutate({});
  };
  return (
    <Paper withBorder radius="md" p="md" data-testid="reconcile-panel">
      <Stack gap="sm">
        <Group justify="space-between">
          <Text size="sm" c="dimmed">
            Compares page views of raw, hourly, daily and monthly rows over what retention holds, and re-rolls windows with late rows and the days and months above them.
          </Text>
          <Button size="xs" onClick={open} loading={run.isPending} data-testid="reconcile-now">
            Reconcile now
          </Button>
        </Group>
        {run.error && (
          <Alert color="red" variant="light" data-testid="reconcile-refusal">
            {failureText(run.error, 'the reconciliation').line}
          </Alert>
        )}
        {run.data && <ReportView report={run.data} testId="reconcile-result" />}
        {history.data && history.data.runs.length > 0 && (
          <Table fz="xs" data-testid="reconcile-runs">
            <Table.Tbody>
              {history.data.runs.map((entry) => (
                <Table.Tr key={`${entry.shard}-${entry.id}`} data-testid="reconcile-run" data-shard={entry.shardName} data-outcome={entry.outcome}>
                  <Table.Td>{entry.startedAt.slice(0, 16).replace('T', ' ')}</Table.Td>
                  <Table.Td>{entry.shardName}</Table.Td>
                  <Table.Td>{entry.trigger}</Table.Td>
                  <Table.Td>{entry.outcome}</Table.Td>
                  <Table.Td style={{ whiteSpace: 'normal' }}>{entry.error ?? entry.detail}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </Stack>
      <PlanConfirmModal
        opened={confirming}
        title="Reconcile now?"
        testId="reconcile-confirm"
        planName="the dry run"
        planReady={dryRun.data !== undefined}
        planError={dryRun.error}
        confirmLabel={`Re-roll ${toReRoll} window${toReRoll === 1 ? '' : 's'}`}
        confirmId="run"
        canConfirm={toReRoll > 0}
        onClose={() => setConfirming(false)}
        onConfirm={() => {
          setConfirming(false);
          run.mutate({ confirm: true });
        }}
      >
        {dryRun.data && (
          <Stack gap="sm">
            <ReportView report={dryRun.data} testId="reconcile-plan" />
            {toReRoll === 0 && (
              <Text size="sm" c="dimmed" data-testid="reconcile-nothing">
                Every window checked matches its source: there is nothing to re-roll.
              </Text>
            )}
          </Stack>
        )}
      </PlanConfirmModal>
    </Paper>
  );
}
