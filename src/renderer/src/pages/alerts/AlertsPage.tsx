import { Button, Group, Paper, SimpleGrid, Stack, Text } from '@mantine/core';
import { useMemo, useState } from 'react';
import type { AlertRule, AlertState, WebhookTestReport } from '../../../../shared/alerts';
import { failureText } from '../../api/failure';
import { LiveIndicator } from '../../components/LiveIndicator';
import { PageHeader } from '../../components/PageHeader';
import { QueryFailure } from '../../components/QueryFailure';
import { SectionTitle } from '../../components/SectionTitle';
import { StatCard } from '../../components/StatCard';
import { formatDuration, formatUtc } from '../../format';
import { ActiveAlertsTable } from './ActiveAlertsTable';
import { DeliveryTable, TransitionTable } from './HistoryTables';
import { RuleEditor } from './RuleEditor';
import { SilenceDialog } from './SilenceDialog';
import { DELIVERIES_LIMIT, HISTORY_LIMIT, useAck, useAlertDeliveries, useAlertHistory, useAlertList, useRules, useSetRule, useSilence, useTestWebhook, useUnsilence } from './use-alerts';

function webhookAnswer(report: WebhookTestReport): string {
  if (!report.configured) return 'No webhook is configured: set alerts.webhookUrlEnv or alerts.webhookUrlKeychain in the profile.';
  const from = report.source ? ` (URL from ${report.source})` : '';
  if (report.delivered) return `Delivered${from}: HTTP ${report.status ?? '?'} in ${formatDuration(report.durationMs)}.`;
  return `Not delivered${from}: ${report.status !== undefined ? `HTTP ${report.status}` : 'no answer'}${report.error ? `, ${report.error}` : ''} after ${formatDuration(report.durationMs)}.`;
}

function WebhookTest() {
  const test = useTestWebhook();
  return (
    <Paper withBorder radius="md" p="sm">
      <Group justify="space-between" wrap="nowrap">
        <Text size="sm" data-testid="webhook-answer" c={test.data ? (test.data.delivered ? 'teal.4' : 'red.4') : test.error ? 'red.4' : 'dimmed'}>
          {test.data ? webhookAnswer(test.data) : test.error ? failureText(test.error, 'the test message').line : 'Sends one test message to the Slack-compatible webhook and shows its answer.'}
        </Text>
        <Button size="xs" variant="default" loading={test.isPending} onClick={() => test.mutate()} data-testid="webhook-test">
          Send test message
        </Button>
      </Group>
    </Paper>
  );
}

/** What is firing and pending and why, silencing and acknowledging, the rules and their thresholds, the history and the deliveries. */
export function AlertsPage() {
  const list = useAlertList();
  const rules = useRules();
  const history = useAlertHistory();
  const deliveries = useAlertDeliveries();
  const setRule = useSetRule();
  const silence = useSilence();
  const unsilence = useUnsilence();
  const ack = useAck();
  const [silencing, setSilencing] = useState<AlertState | undefined>();
  const [editing, setEditing] = useState<AlertRule | undefined>();
  const ruleMap = useMemo(() => new Map((rules.data ?? []).map((rule) => [rule.name, rule])), [rules.data]);
  const actionError = unsilence.error ?? ack.error;
  const data = list.data;

  return (
    <Stack gap="lg" data-testid="page-alerts">
      <PageHeader title="Alerts" subtitle="Rules over the probe cycles' figures, evaluated by the scheduler lease holder · times in UTC">
        {list.dataUpdatedAt > 0 && <LiveIndicator testId="alerts-updated" updatedAt={list.dataUpdatedAt} failing={list.error !== null} />}
      </PageHeader>
      {list.error && <QueryFailure testId="alerts-error" error={list.error} what="the alerts" stale={data !== undefined} />}
      {data && (
        <SimpleGrid cols={{ base: 3 }} spacing="sm">
          <StatCard label="Firing" value={<span data-testid="alerts-firing-count">{data.firing}</span>} detail="messages go to the webhook unless silenced" alert={data.firing > 0 ? 'red' : undefined} />
          <StatCard label="Pending" value={<span data-testid="alerts-pending-count">{data.pending}</span>} detail="breaching, waiting out the rule's for-duration" alert={data.pending > 0 ? 'orange' : undefined} />
          <StatCard
            label="Last evaluated"
            value={data.evaluatedAt ? formatUtc(data.evaluatedAt, 'second').slice(11) : 'never'}
            detail={data.evaluatedAt ? `${formatUtc(data.evaluatedAt)} UTC by the lease holder` : 'no process holding the scheduler lease has evaluated the rules yet'}
            alert={data.evaluatedAt ? undefined : 'orange'}
            testId="alerts-evaluated"
          />
        </SimpleGrid>
      )}

      <Stack gap={6}>
        <SectionTitle>Firing and pending</SectionTitle>
        {actionError && (
          <Text size="sm" c="red.4" data-testid="alert-action-error">
            {failureText(actionError, 'the change').line}
          </Text>
        )}
        {data && (
          <ActiveAlertsTable
            alerts={data.alerts}
            rules={ruleMap}
            busy={unsilence.isPending || ack.isPending}
            onSilence={(alert) => {
              silence.reset();
              setSilencing(alert);
            }}
            onUnsilence={(alert) => alert.silence && unsilence.mutate(alert.silence.id)}
            onAck={(alert) => ack.mutate({ rule: alert.rule, scope: alert.scope.key })}
          />
        )}
      </Stack>

      <Stack gap={6}>
        <SectionTitle>Rules</SectionTitle>
        {rules.error && <QueryFailure testId="rules-error" error={rules.error} what="the rules" stale={rules.data !== undefined} />}
        {rules.data && (
          <RuleEditor
            rules={rules.data}
            editing={editing}
            onEdit={(rule) => {
              setRule.reset();
              setEditing(rule);
            }}
            onSave={(request) => setRule.mutate(request, { onSuccess: () => setEditing(undefined) })}
            saving={setRule.isPending}
            error={setRule.error}
          />
        )}
      </Stack>

      <Stack gap={6}>
        <SectionTitle>Webhook</SectionTitle>
        <WebhookTest />
      </Stack>

      <Stack gap={6}>
        <SectionTitle right={<Text size="xs" c="dimmed">newest {DELIVERIES_LIMIT}</Text>}>Deliveries</SectionTitle>
        {deliveries.error && <QueryFailure testId="deliveries-error" error={deliveries.error} what="the deliveries" stale={deliveries.data !== undefined} />}
        {deliveries.data && <DeliveryTable deliveries={deliveries.data} />}
      </Stack>

      <Stack gap={6}>
        <SectionTitle right={<Text size="xs" c="dimmed">newest {HISTORY_LIMIT}</Text>}>History</SectionTitle>
        {history.error && <QueryFailure testId="history-error" error={history.error} what="the alert history" stale={history.data !== undefined} />}
        {history.data && <TransitionTable transitions={history.data} rules={ruleMap} />}
      </Stack>

      <SilenceDialog
        alert={silencing}
        onClose={() => setSilencing(undefined)}
        onSilence={(request) => silence.mutate(request, { onSuccess: () => setSilencing(undefined) })}
        silencing={silence.isPending}
        error={silence.error}
      />
    </Stack>
  );
}
