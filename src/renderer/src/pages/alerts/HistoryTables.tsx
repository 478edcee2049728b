import { Anchor, Badge, Stack, Table, Text } from '@mantine/core';
import type { AlertDelivery, AlertRule, AlertTransition } from '../../../../shared/alerts';
import { columnsOf, RecordTable } from '../../components/RecordTable';
import { UNCLIPPED_BADGE } from '../../components/StateBadge';
import { TONE_COLOUR } from '../../colours';
import { formatDuration, formatUtc } from '../../format';
import { alertStateColour, linkHref, ruleValueText } from './alert-text';

const TRANSITION_COLUMNS = columnsOf(['At (UTC)', 'Rule', 'Scope', 'Change', 'Value', 'Message'], ['Value']);
const DELIVERY_COLUMNS = columnsOf(['Queued (UTC)', 'Message', 'State', 'Attempts']);

/** Every state change of every alert, newest first, with the value and threshold at that moment. */
export function TransitionTable({ transitions, rules }: { transitions: readonly AlertTransition[]; rules: ReadonlyMap<string, AlertRule> }) {
  return (
    <RecordTable testId="alert-history" maxHeight={420} columns={TRANSITION_COLUMNS} rowCount={transitions.length} empty={{ text: 'No alert has changed state yet.', testId: 'alert-history-empty' }}>
      {transitions.map((transition) => (
        <Table.Tr key={transition.id} data-testid="transition-row" data-rule={transition.rule} data-scope={transition.scope} data-change={`${transition.from}→${transition.to}`}>
          <Table.Td ff="monospace" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
            {formatUtc(transition.at, 'second')}
          </Table.Td>
          <Table.Td ff="monospace">{transition.rule}</Table.Td>
          <Table.Td ff="monospace">{transition.scope}</Table.Td>
          <Table.Td style={{ whiteSpace: 'nowrap' }}>
            <Badge color={alertStateColour(transition.from)} variant="light" tt="none" radius="sm" styles={UNCLIPPED_BADGE}>
              {transition.from}
            </Badge>
            {' → '}
            <Badge color={alertStateColour(transition.to)} variant={transition.to === 'firing' ? 'filled' : 'light'} tt="none" radius="sm" styles={UNCLIPPED_BADGE}>
              {transition.to}
            </Badge>
          </Table.Td>
          <Table.Td ta="right" ff="monospace" style={{ whiteSpace: 'nowrap' }}>
            {ruleValueText(rules.get(transition.rule), transition.value)}
          </Table.Td>
          <Table.Td style={{ whiteSpace: 'normal' }}>
            {transition.message}
            {transition.link && (
              <>
                {' · '}
                <Anchor href={linkHref(transition.link)} size="sm">
                  {transition.link.text}
                </Anchor>
              </>
            )}
          </Table.Td>
        </Table.Tr>
      ))}
    </RecordTable>
  );
}

const DELIVERY_COLOUR: Record<AlertDelivery['state'], string> = { delivered: TONE_COLOUR.good, pending: TONE_COLOUR.active, failed: TONE_COLOUR.bad, skipped: TONE_COLOUR.idle };

/** Each message to the webhook, with every attempt's answer: the status it got, or why it got none. */
export function DeliveryTable({ deliveries }: { deliveries: readonly AlertDelivery[] }) {
  return (
    <RecordTable testId="alert-deliveries" maxHeight={420} columns={DELIVERY_COLUMNS} rowCount={deliveries.length} empty={{ text: 'No message has been queued for the webhook yet.', testId: 'alert-deliveries-empty' }}>
      {deliveries.map((delivery) => (
        <Table.Tr key={delivery.id} data-testid={`delivery-${delivery.id}`} data-state={delivery.state}>
          <Table.Td ff="monospace" c="dimmed" style={{ whiteSpace: 'nowrap' }}>
            {formatUtc(delivery.createdAt, 'second')}
          </Table.Td>
          <Table.Td>
            <Text size="sm" ff="monospace">
              {delivery.kind} {delivery.rule} ({delivery.scope})
            </Text>
          </Table.Td>
          <Table.Td>
            <Badge color={DELIVERY_COLOUR[delivery.state]} variant={delivery.state === 'failed' ? 'filled' : 'light'} tt="none" radius="sm" styles={UNCLIPPED_BADGE} data-testid={`delivery-${delivery.id}-state`}>
              {delivery.state}
            </Badge>
            {delivery.error && (
              <Text size="xs" c={delivery.state === 'failed' ? 'red.4' : 'dimmed'}>
                {delivery.error}
              </Text>
            )}
            {delivery.state === 'pending' && delivery.nextAttemptAt && (
              <Text size="xs" c="dimmed">
                next try {formatUtc(delivery.nextAttemptAt, 'second')}
              </Text>
            )}
          </Table.Td>
          <Table.Td>
            <Stack gap={0}>
              {delivery.attempts.length === 0 && (
                <Text size="xs" c="dimmed">
                  none
                </Text>
              )}
              {delivery.attempts.map((attempt) => (
                <Text key={attempt.attempt} size="xs" ff="monospace" c={attempt.status !== undefined && attempt.status < 300 ? undefined : 'red.4'} data-testid={`delivery-${delivery.id}-attempt-${attempt.attempt}`}>
                  #{attempt.attempt} {formatUtc(attempt.at, 'second')} · {attempt.status !== undefined ? `HTTP ${attempt.status}` : 'no answer'}
                  {attempt.error ? ` · ${attempt.error}` : ''} · {formatDuration(attempt.durationMs)}
                </Text>
              ))}
            </Stack>
          </Table.Td>
        </Table.Tr>
      ))}
    </RecordTable>
  );
}
