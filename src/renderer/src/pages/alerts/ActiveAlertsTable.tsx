import { Anchor, Badge, Button, Group, Stack, Table, Text } from '@mantine/core';
import type { AlertRule, AlertState } from '../../../../shared/alerts';
import { columnsOf, RecordTable } from '../../components/RecordTable';
import { UNCLIPPED_BADGE } from '../../components/StateBadge';
import { formatRelative, formatUtc } from '../../format';
import { useNow } from '../../hooks/use-now';
import { alertStateColour, linkHref, ruleValueText, severityColour } from './alert-text';

/** The id a row and its buttons are found by: `alert-shard-unreachable-shard:1`. */
export function alertTestId(alert: { rule: string; scope: { key: string } }): string {
  return `alert-${alert.rule}-${alert.scope.key}`;
}

interface ActiveAlertsTableProps {
  alerts: readonly AlertState[];
  rules: ReadonlyMap<string, AlertRule>;
  onSilence(alert: AlertState): void;
  onUnsilence(alert: AlertState): void;
  onAck(alert: AlertState): void;
  busy: boolean;
}

function Behind({ alert }: { alert: AlertState }) {
  if (!alert.link) return <Text size="sm" c="dimmed">{alert.scope.key}</Text>;
  return (
    <Anchor href={linkHref(alert.link)} size="sm" data-testid={`${alertTestId(alert)}-link`} data-kind={alert.link.kind} data-run-id={alert.link.runId}>
      {alert.link.text}
      {alert.link.kind === 'run' && alert.link.runId !== undefined ? ` (run ${alert.link.runId})` : ''}
    </Anchor>
  );
}

const ALERT_COLUMNS = [...columnsOf(['State', 'Rule', 'Behind it', 'Value', 'Threshold', 'Since (UTC)', 'Handled'], ['Value', 'Threshold']), {}];

/** Firing and pending alerts first, then the recently resolved ones, with what each is about and what was done. */
export function ActiveAlertsTable({ alerts, rules, onSilence, onUnsilence, onAck, busy }: ActiveAlertsTableProps) {
  const now = useNow();
  return (
    <RecordTable testId="active-alerts" columns={ALERT_COLUMNS} rowCount={alerts.length} empty={{ text: 'Nothing is firing or pending.', testId: 'alerts-empty' }}>
      {alerts.map((alert) => {
        const rule = rules.get(alert.rule);
        const id = alertTestId(alert);
        const open = alert.state === 'firing' || alert.state === 'pending';
        return (
          <Table.Tr key={`${alert.rule}-${alert.scope.key}`} data-testid={id} data-state={alert.state} data-silenced={alert.silence ? 'yes' : 'no'} data-acked={alert.ackedBy ? 'yes' : 'no'}>
            <Table.Td>
              <Group gap={4} wrap="nowrap">
                <Badge color={alertStateColour(alert.state)} variant={alert.state === 'firing' ? 'filled' : 'light'} tt="none" radius="sm" styles={UNCLIPPED_BADGE} data-testid={`${id}-state`}>
                  {alert.state}
                </Badge>
                <Badge color={severityColour(alert.severity)} variant="outline" tt="none" radius="sm" styles={UNCLIPPED_BADGE}>
                  {alert.severity}
                </Badge>
              </Group>
            </Table.Td>
            <Table.Td>
              <Text size="sm" fw={600} ff="monospace">
                {alert.rule}
              </Text>
              <Text size="xs" c="dimmed" maw={360} style={{ whiteSpace: 'normal' }} data-testid={`${id}-message`}>
                {alert.message}
              </Text>
            </Table.Td>
            <Table.Td>
              <Behind alert={alert} />
            </Table.Td>
            <Table.Td ta="right" ff="monospace" style={{ whiteSpace: 'nowrap' }} data-testid={`${id}-value`}>
              {ruleValueText(rule, alert.value)}
            </Table.Td>
            <Table.Td ta="right" ff="monospace" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
              {rule ? `${rule.comparator} ` : ''}
              {ruleValueText(rule, alert.threshold)}
            </Table.Td>
            <Table.Td style={{ whiteSpace: 'nowrap' }}>
              <Text size="sm" ff="monospace">
                {formatUtc(alert.since)}
              </Text>
              <Text size="xs" c="dimmed">
                {formatRelative(alert.since, now)}
              </Text>
            </Table.Td>
            <Table.Td>
              <Stack gap={2}>
                {alert.silence && (
                  <Text size="xs" c="yellow.4" data-testid={`${id}-silenced`}>
                    silenced until {formatUtc(alert.silence.until)} by {alert.silence.createdBy}: {alert.silence.comment}
                  </Text>
                )}
                {alert.ackedBy && (
                  <Text size="xs" c="teal.4" data-testid={`${id}-acked`}>
                    acknowledged by {alert.ackedBy}
                    {alert.ackedAt ? ` at ${formatUtc(alert.ackedAt)}` : ''}
                  </Text>
                )}
              </Stack>
            </Table.Td>
            <Table.Td>
              <Group gap={4} wrap="nowrap" justify="flex-end">
                {alert.silence ? (
                  <Button size="compact-xs" variant="default" disabled={busy} onClick={() => onUnsilence(alert)} data-testid={`${id}-unsilence`}>
                    Unsilence
                  </Button>
                ) : (
                  <Button size="compact-xs" variant="default" disabled={busy} onClick={() => onSilence(alert)} data-testid={`${id}-silence`}>
                    Silence…
                  </Button>
                )}
                {open && !alert.ackedBy && (
                  <Button size="compact-xs" variant="light" disabled={busy} onClick={() => onAck(alert)} data-testid={`${id}-ack`}>
                    Acknowledge
                  </Button>
                )}
              </Group>
            </Table.Td>
          </Table.Tr>
        );
      })}
    </RecordTable>
  );
}
