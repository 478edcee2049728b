import { ActionIcon, Badge, Code, Table, Text } from '@mantine/core';
import { Fragment, useState } from 'react';
import { compactAuditDetail, fullAuditDetail, type AuditEntryRecord } from '../../../../shared/audit';
import { columnsOf, RecordTable } from '../../components/RecordTable';
import { formatRelative, formatUtc } from '../../format';
import { useNow } from '../../hooks/use-now';

function AuditRow({ entry, now, expanded, onToggle }: { entry: AuditEntryRecord; now: number; expanded: boolean; onToggle: () => void }) {
  const detailId = `audit-detail-${entry.id}`;
  return (
    <Fragment>
      <Table.Tr data-testid="audit-entry" data-id={entry.id} data-action={entry.action} data-actor={entry.actor} data-host={entry.host} data-target={entry.target ?? ''} data-at={entry.at}>
        <Table.Td style={{ whiteSpace: 'nowrap' }}>
          <Text size="sm" ff="monospace" data-testid="audit-when">
            {formatUtc(entry.at, 'second')}
          </Text>
          <Text size="xs" c="dimmed">
            {formatRelative(entry.at, now)}
          </Text>
        </Table.Td>
        <Table.Td data-testid="audit-who">{entry.actor}</Table.Td>
        <Table.Td data-testid="audit-where">{entry.host}</Table.Td>
        <Table.Td data-testid="audit-what" style={{ whiteSpace: 'nowrap' }}>
          <Badge variant="light" color="blue" tt="none" radius="sm" ff="monospace">
            {entry.action}
          </Badge>{' '}
          <Text span size="sm" ff="monospace">
            {entry.target ?? ''}
          </Text>
        </Table.Td>
        <Table.Td maw={520}>
          <Text size="xs" c="dimmed" ff="monospace" lineClamp={1} data-testid="audit-detail-summary">
            {compactAuditDetail(entry.detail) || '—'}
          </Text>
        </Table.Td>
        <Table.Td w={40}>
          {entry.detail !== '' && (
            <ActionIcon variant="subtle" color="gray" onClick={onToggle} aria-expanded={expanded} aria-controls={detailId} aria-label={expanded ? 'Hide the details' : 'Show the details'} data-testid="audit-expand">
              {expanded ? '−' : '+'}
            </ActionIcon>
          )}
        </Table.Td>
      </Table.Tr>
      {expanded && (
        <Table.Tr id={detailId} data-testid="audit-detail">
          <Table.Td colSpan={6}>
            <Code block fz="xs">
              {fullAuditDetail(entry.detail)}
            </Code>
          </Table.Td>
        </Table.Tr>
      )}
    </Fragment>
  );
}

const AUDIT_COLUMNS = [...columnsOf(['When (UTC)', 'Who', 'Where', 'What', 'Details']), {}];

/** One line per audited operation, newest first; a line's full details open below it. */
export function AuditTable({ entries, filtered }: { entries: readonly AuditEntryRecord[]; filtered: boolean }) {
  const now = useNow();
  const [expanded, setExpanded] = useState<ReadonlySet<number>>(new Set());
  const toggle = (id: number) =>
    setExpanded((previous) => {
      const next = new Set(previous);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  if (entries.length === 0) {
    return (
      <Text size="sm" c="dimmed" data-testid="audit-empty">
        {filtered ? 'No audited change matches these filters.' : 'Nothing has been changed on this cluster yet: changes to retention, schedules, partitions and backfills appear here.'}
      </Text>
    );
  }
  return (
    <RecordTable testId="audit-entries" minWidth={980} columns={AUDIT_COLUMNS}>
      {entries.map((entry) => (
        <AuditRow key={entry.id} entry={entry} now={now} expanded={expanded.has(entry.id)} onToggle={() => toggle(entry.id)} />
      ))}
    </RecordTable>
  );
}
