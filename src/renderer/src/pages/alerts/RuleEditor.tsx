import { Badge, Button, Group, Modal, NumberInput, Select, Stack, Switch, Table, Text } from '@mantine/core';
import { useEffect, useState } from 'react';
import { ALERT_SEVERITIES, type AlertRule, type AlertRuleSetRequest, type AlertSeverity } from '../../../../shared/alerts';
import { METRICS } from '../../../../shared/monitor';
import { failureText } from '../../api/failure';
import { columnsOf, RecordTable } from '../../components/RecordTable';
import { UNCLIPPED_BADGE } from '../../components/StateBadge';
import { forText, ruleValueText, severityColour, thresholdUnit } from './alert-text';

interface RuleFormValues {
  threshold: number | string;
  forSeconds: number | string;
  severity: AlertSeverity;
  enabled: boolean;
}

function formOf(rule: AlertRule): RuleFormValues {
  // Rounded so 0.85 edits as 85, not 85.00000000000001.
  return { threshold: Math.round(rule.threshold * thresholdUnit(rule).factor * 1e6) / 1e6, forSeconds: rule.forSeconds, severity: rule.severity, enabled: rule.enabled };
}

/** The change as the service takes it, or the one line that says why it cannot be sent. */
export function ruleChange(rule: AlertRule, values: RuleFormValues): { request: AlertRuleSetRequest } | { problem: string } {
  const threshold = Number(values.threshold);
  const forSeconds = Number(values.forSeconds);
  if (values.threshold === '' || !Number.isFinite(threshold)) return { problem: 'The threshold must be a number.' };
  if (values.forSeconds === '' || !Number.isInteger(forSeconds) || forSeconds < 0) return { problem: 'The for-duration must be a whole number of seconds, 0 or more.' };
  return { request: { rule: rule.name, threshold: threshold / thresholdUnit(rule).factor, forSeconds, severity: values.severity, enabled: values.enabled } };
}

interface RuleDialogProps {
  rule: AlertRule | undefined;
  onClose(): void;
  onSave(request: AlertRuleSetRequest): void;
  saving: boolean;
  error: Error | null;
}

function RuleDialog({ rule, onClose, onSave, saving, error }: RuleDialogProps) {
  const [values, setValues] = useState<RuleFormValues | undefined>();
  const [problem, setProblem] = useState<string | undefined>();
  useEffect(() => {
    setValues(rule ? formOf(rule) : undefined);
    setProblem(undefined);
  }, [rule]);
  if (!rule || !values) return null;
  const unit = thresholdUnit(rule);
  const save = () => {
    const change = ruleChange(rule, values);
    setProblem('problem' in change ? change.problem : undefined);
    if ('request' in change) onSave(change.request);
  };
  const refusal = problem ?? (error ? failureText(error, 'the rule change').line : undefined);
  return (
    <Modal opened onClose={onClose} title={<Text fw={700}>Edit {rule.name}</Text>} centered data-testid="rule-dialog">
      <Stack gap="sm">
        <Text size="sm" c="dimmed">
          {rule.description}
        </Text>
        <Text size="sm">
          Fires when {METRICS[rule.metric].label}
          {rule.level ? ` (${rule.level})` : ''} is {rule.comparator === '>' ? 'above' : 'below'} the threshold for the for-duration.
        </Text>
        <NumberInput label={`Threshold${unit.suffix ? ` (${unit.suffix})` : ''}`} value={values.threshold} onChange={(threshold) => setValues({ ...values, threshold })} decimalScale={6} data-testid="rule-threshold" />
        <NumberInput label="For (seconds; 0 fires at once)" value={values.forSeconds} onChange={(forSeconds) => setValues({ ...values, forSeconds })} allowDecimal={false} data-testid="rule-for" />
        <Select label="Severity" value={values.severity} onChange={(severity) => severity && setValues({ ...values, severity: severity as AlertSeverity })} data={[...ALERT_SEVERITIES]} allowDeselect={false} data-testid="rule-severity" />
        <Switch label="Enabled" checked={values.enabled} onChange={(event) => setValues({ ...values, enabled: event.currentTarget.checked })} data-testid="rule-enabled" />
        {refusal && (
          <Text size="sm" c="red.4" data-testid="rule-error">
            {refusal}
          </Text>
        )}
        <Group justify="space-between">
          <Button variant="subtle" color="gray" disabled={!rule.customized || saving} onClick={() => onSave({ rule: rule.name, reset: true })} data-testid="rule-reset">
            Back to the built-in rule
          </Button>
          <Group gap="xs">
            <Button variant="default" onClick={onClose} data-testid="rule-cancel">
              Cancel
            </Button>
            <Button loading={saving} onClick={save} data-testid="rule-save">
              Save
            </Button>
          </Group>
        </Group>
      </Stack>
    </Modal>
  );
}

interface RuleEditorProps {
  rules: readonly AlertRule[];
  editing: AlertRule | undefined;
  onEdit(rule: AlertRule | undefined): void;
  onSave(request: AlertRuleSetRequest): void;
  saving: boolean;
  error: Error | null;
}

const RULE_COLUMNS = [...columnsOf(['Rule', 'Watches', 'Threshold', 'For', 'Severity', 'Enabled'], ['Threshold']), {}];

/** Every rule with the threshold it alerts at; a changed rule says so, and can go back to the built-in one. */
export function RuleEditor({ rules, editing, onEdit, onSave, saving, error }: RuleEditorProps) {
  return (
    <>
      <RecordTable testId="rule-table" columns={RULE_COLUMNS}>
        {rules.map((rule) => (
          <Table.Tr key={rule.name} data-testid={`rule-${rule.name}`} data-enabled={rule.enabled ? 'yes' : 'no'} c={rule.enabled ? undefined : 'dimmed'}>
            <Table.Td>
              <Text size="sm" fw={600} ff="monospace">
                {rule.name}
                {rule.customized && (
                  <Badge ml={6} size="xs" variant="light" color="grape" tt="none" styles={UNCLIPPED_BADGE}>
                    changed
                  </Badge>
                )}
              </Text>
              <Text size="xs" c="dimmed" maw={420} style={{ whiteSpace: 'normal' }}>
                {rule.description}
              </Text>
            </Table.Td>
            <Table.Td ff="monospace" c="dimmed">
              {rule.metric}
              {rule.level ? ` (${rule.level})` : ''}
            </Table.Td>
            <Table.Td ta="right" ff="monospace" data-testid={`rule-${rule.name}-threshold`} style={{ whiteSpace: 'nowrap' }}>
              {rule.comparator} {ruleValueText(rule, rule.threshold)}
            </Table.Td>
            <Table.Td style={{ whiteSpace: 'nowrap' }}>{forText(rule.forSeconds)}</Table.Td>
            <Table.Td>
              <Badge color={severityColour(rule.severity)} variant="outline" tt="none" radius="sm" styles={UNCLIPPED_BADGE}>
                {rule.severity}
              </Badge>
            </Table.Td>
            <Table.Td>{rule.enabled ? 'yes' : 'no'}</Table.Td>
            <Table.Td>
              <Button size="compact-xs" variant="default" onClick={() => onEdit(rule)} data-testid={`rule-${rule.name}-edit`}>
                Edit
              </Button>
            </Table.Td>
          </Table.Tr>
        ))}
      </RecordTable>
      <RuleDialog rule={editing} onClose={() => onEdit(undefined)} onSave={onSave} saving={saving} error={error} />
    </>
  );
}
