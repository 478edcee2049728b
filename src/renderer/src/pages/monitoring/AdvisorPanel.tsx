import { Badge, Button, Center, Code, CopyButton, Group, Loader, Paper, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import type { AdviceFinding } from '../../../../shared/monitor';
import { QueryFailure } from '../../components/QueryFailure';
import { UNCLIPPED_BADGE } from '../../components/StateBadge';
import { TONE_COLOUR, type Tone } from '../../colours';
import { formatUtc } from '../../format';
import { PartialResultBanner } from '../../components/PartialResultBanner';
import { useAdvice } from './use-monitoring';

const SEVERITY_TONE: Record<AdviceFinding['severity'], Tone> = { ok: 'good', info: 'active', warning: 'warning' };

function FindingRow({ finding, testId }: { finding: AdviceFinding; testId: string }) {
  return (
    <Paper withBorder radius="sm" p="sm" data-testid={testId} data-severity={finding.severity} data-subject={finding.subject}>
      <Group justify="space-between" align="flex-start" wrap="nowrap" gap="sm">
        <Stack gap={2} style={{ minWidth: 0 }}>
          <Group gap="xs">
            <Badge color={TONE_COLOUR[SEVERITY_TONE[finding.severity]]} variant={finding.severity === 'warning' ? 'filled' : 'light'} tt="none" radius="sm" styles={UNCLIPPED_BADGE}>
              {finding.severity}
            </Badge>
            <Text fw={600} ff="monospace" size="sm">
              {finding.subject}
            </Text>
          </Group>
          {(finding.actual !== undefined || finding.recommended !== undefined) && (
            <Text size="sm" data-testid={`${testId}-values`}>
              is <Code>{finding.actual ?? 'unknown'}</Code>
              {finding.recommended !== undefined && (
                <>
                  , recommended <Code>{finding.recommended}</Code>
                </>
              )}
            </Text>
          )}
          <Text size="sm" c="dimmed" style={{ whiteSpace: 'normal' }}>
            {finding.message}
          </Text>
          {finding.fix && (
            <Code block data-testid={`${testId}-fix`} style={{ whiteSpace: 'pre-wrap' }}>
              {finding.fix}
            </Code>
          )}
        </Stack>
        {finding.fix && (
          <CopyButton value={finding.fix}>
            {({ copied, copy }) => (
              <Button size="compact-xs" variant="light" color={copied ? 'teal' : 'gray'} onClick={copy} data-testid={`${testId}-copy`}>
                {copied ? 'Copied' : 'Copy fix'}
              </Button>
            )}
          </CopyButton>
        )}
      </Group>
    </Paper>
  );
}

/** Each shard's settings, indexes and partitioning against the recommended my.cnf, with the statement that fixes each. */
export function AdvisorPanel() {
  const advice = useAdvice();
  // What is already as recommended is folded away: the findings to act on stay in view.
  const [showOk, setShowOk] = useState(false);
  const report = advice.data;
  const okCount = report?.findings.filter((finding) => finding.severity === 'ok').length ?? 0;
  const shards = report ? [...new Map(report.findings.map((finding) => [finding.shard, finding.shardName])).entries()] : [];
  return (
    <Stack gap="sm" data-testid="advisor">
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          {report ? `Checked ${formatUtc(report.checkedAt, 'second')} UTC; warnings first.` : 'Reads every shard’s variables, indexes and partitions.'}
        </Text>
        <Group gap="xs">
          {okCount > 0 && (
            <Button size="xs" variant="subtle" color="gray" onClick={() => setShowOk(!showOk)} data-testid="advisor-toggle-ok">
              {showOk ? 'Hide' : 'Show'} the {okCount} as recommended
            </Button>
          )}
          <Button size="xs" variant="default" loading={advice.isFetching} onClick={() => void advice.refetch()} data-testid="advisor-refresh">
            Check again
          </Button>
        </Group>
      </Group>
      {advice.error && <QueryFailure testId="advisor-error" error={advice.error} what="the config advice" stale={report !== undefined} />}
      {report && <PartialResultBanner testId="advisor-partial" missing={report.unreadShards} what="the advice" />}
      {advice.isPending && (
        <Center h={80}>
          <Loader size="sm" />
        </Center>
      )}
      {shards.map(([shard, shardName]) => {
        const findings = report!.findings
          .filter((finding) => finding.shard === shard)
          .sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
        const warnings = findings.filter((finding) => finding.severity === 'warning').length;
        return (
          <Stack key={shard} gap={6} data-testid={`advisor-shard-${shard}`}>
            <Text fw={600}>
              {shardName}{' '}
              <Text span size="sm" c={warnings > 0 ? 'orange.4' : 'teal.4'} fw={400}>
                {warnings > 0 ? `${warnings} to change` : 'as recommended'}
              </Text>
            </Text>
            {findings.map((finding, index) =>
              showOk || finding.severity !== 'ok' ? <FindingRow key={`${finding.subject}-${index}`} finding={finding} testId={`advice-${shard}-${index}`} /> : null,
            )}
          </Stack>
        );
      })}
    </Stack>
  );
}

function severityRank(severity: AdviceFinding['severity']): number {
  return severity === 'warning' ? 2 : severity === 'info' ? 1 : 0;
}
