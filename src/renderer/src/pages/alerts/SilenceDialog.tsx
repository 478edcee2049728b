import { Button, Group, Modal, Radio, SegmentedControl, Stack, Text, Textarea } from '@mantine/core';
import { useEffect, useState } from 'react';
import type { AlertSilenceRequest, AlertState } from '../../../../shared/alerts';
import { failureText } from '../../api/failure';
import { formatUtc } from '../../format';

const HOUR_MS = 3_600_000;
const DURATIONS = [
  { value: '1', label: '1 h' },
  { value: '4', label: '4 h' },
  { value: '24', label: '24 h' },
  { value: '168', label: '7 d' },
];

interface SilenceDialogProps {
  alert: AlertState | undefined;
  onClose(): void;
  onSilence(request: AlertSilenceRequest): void;
  silencing: boolean;
  error: Error | null;
}

/**
 * Asks how long, for which scope and why before silencing: a silence stops the messages, not the alert, so the
 * dialog says what it will and will not do, and the confirm button names the end time.
 */
export function SilenceDialog({ alert, onClose, onSilence, silencing, error }: SilenceDialogProps) {
  const [hours, setHours] = useState('1');
  const [wholeRule, setWholeRule] = useState('scope');
  const [comment, setComment] = useState('');
  useEffect(() => {
    if (!alert) return;
    setHours('1');
    setWholeRule('scope');
    setComment('');
  }, [alert]);
  if (!alert) return null;
  const until = new Date(Date.now() + Number(hours) * HOUR_MS).toISOString();
  const silenceRequest: AlertSilenceRequest = { rule: alert.rule, until, comment: comment.trim(), ...(wholeRule === 'scope' ? { scope: alert.scope.key } : {}) };
  return (
    <Modal opened onClose={onClose} title={<Text fw={700}>Silence {alert.rule}?</Text>} centered size="lg" data-testid="silence-dialog">
      <Stack gap="sm">
        <Text size="sm">
          No message is sent for it while silenced; the alert still shows here, with its state, and the history keeps every transition.
        </Text>
        <Radio.Group value={wholeRule} onChange={setWholeRule} label="What to silence">
          <Group mt={4}>
            <Radio value="scope" label={`only ${alert.scope.key}`} data-testid="silence-scope-one" />
            <Radio value="rule" label={`every scope of ${alert.rule}`} data-testid="silence-scope-all" />
          </Group>
        </Radio.Group>
        <div>
          <Text size="sm" fw={500} mb={4}>
            For
          </Text>
          <SegmentedControl size="xs" value={hours} onChange={setHours} data={DURATIONS} data-testid="silence-duration" />
        </div>
        <Textarea label="Why" placeholder="planned maintenance of shard1 until 16:00" value={comment} onChange={(event) => setComment(event.currentTarget.value)} autosize minRows={2} data-testid="silence-comment" />
        {error && (
          <Text size="sm" c="red.4" data-testid="silence-error">
            {failureText(error, 'the silence').line}
          </Text>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose} data-testid="silence-cancel">
            Not now
          </Button>
          <Button color="yellow" disabled={silenceRequest.comment.length === 0} loading={silencing} onClick={() => onSilence(silenceRequest)} data-testid="silence-confirm">
            Silence until {formatUtc(until)} UTC
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
