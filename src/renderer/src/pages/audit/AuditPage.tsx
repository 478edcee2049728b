import { Center, Group, Loader, SegmentedControl, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import { AUDIT_KINDS } from '../../../../shared/audit';
import { LiveIndicator } from '../../components/LiveIndicator';
import { PageHeader } from '../../components/PageHeader';
import { QueryFailure } from '../../components/QueryFailure';
import { AuditTable } from './AuditTable';
import { AUDIT_LIMIT, SINCE_SPANS, useAuditLog, type SinceSpan } from './use-audit';

const ALL_KINDS = 'all';
const KIND_OPTIONS = [{ value: ALL_KINDS, label: 'All' }, ...AUDIT_KINDS.map((kind) => ({ value: kind, label: kind }))];

/** Who changed what on the cluster, from which host and when, with each operation's details; the same log for every console. */
export function AuditPage() {
  const [kind, setKind] = useState<string>(ALL_KINDS);
  const [span, setSpan] = useState<SinceSpan>('all');
  const audit = useAuditLog(kind === ALL_KINDS ? undefined : kind, span);
  const filtered = kind !== ALL_KINDS || span !== 'all';
  return (
    <Stack gap="lg" data-testid="page-audit">
      <PageHeader title="Audit log" subtitle="Every change made to the cluster by any console, command line or agent, newest first · times in UTC">
        {audit.dataUpdatedAt > 0 && <LiveIndicator testId="audit-updated" updatedAt={audit.dataUpdatedAt} failing={audit.error !== null} />}
      </PageHeader>
      <Group gap="lg" align="flex-end">
        <Stack gap={4}>
          <Text size="xs" c="dimmed">
            Kind
          </Text>
          <SegmentedControl size="xs" data={KIND_OPTIONS} value={kind} onChange={setKind} data-testid="audit-kind" />
        </Stack>
        <Stack gap={4}>
          <Text size="xs" c="dimmed">
            Since
          </Text>
          <SegmentedControl size="xs" data={SINCE_SPANS.map(({ value, label }) => ({ value, label }))} value={span} onChange={(value) => setSpan(value as SinceSpan)} data-testid="audit-since" />
        </Stack>
        {audit.data && (
          <Text size="xs" c="dimmed" data-testid="audit-count">
            {audit.data.length === AUDIT_LIMIT ? `the newest ${AUDIT_LIMIT}` : `${audit.data.length} ${audit.data.length === 1 ? 'entry' : 'entries'}`}
          </Text>
        )}
      </Group>
      {audit.error && <QueryFailure testId="audit-error" error={audit.error} what="the audit log" stale={audit.data !== undefined} />}
      {audit.isPending && (
        <Center h={160}>
          <Loader size="sm" />
        </Center>
      )}
      {audit.data && <AuditTable entries={audit.data} filtered={filtered} />}
    </Stack>
  );
}
