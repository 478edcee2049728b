import { SimpleGrid } from '@mantine/core';
import type { UseQueryResult } from '@tanstack/react-query';
import type { RunRecord } from '../../../../shared/rollup';
import type { LeaseStatus } from '../../../../shared/schedule';
import { failureText } from '../../api/failure';
import { StatCard } from '../../components/StatCard';
import { formatDuration, formatRelative, formatUtc, formatWindow } from '../../format';
import { useNow } from '../../hooks/use-now';
import { AGGREGATION_ALERT_SECONDS } from './AggregationChart';

/** Who may run scheduled jobs right now: without a holder, nothing rolls up on schedule. */
function LeaseCard({ lease }: { lease: UseQueryResult<LeaseStatus> }) {
  if (lease.error && !lease.data) {
    const { title, message } = failureText(lease.error, 'the scheduler lease');
    return <StatCard testId="lease-card" label="Scheduler lease" value="unknown" detail={`${title}: ${message}`} alert="red" />;
  }
  const status = lease.data;
  if (!status) return <StatCard testId="lease-card" label="Scheduler lease" value="…" detail="reading" />;
  if (!status.held || !status.holder) {
    return (
      <StatCard
        testId="lease-card"
        label="Scheduler lease"
        value="nobody"
        detail={`no scheduler is running${status.lastToken ? ` · last token ${status.lastToken}` : ''}`}
        alert="orange"
      />
    );
  }
  const holder = status.holder;
  const expires = status.expiresInMs === undefined ? '' : ` · TTL ${Math.ceil(status.expiresInMs / 1000)} s`;
  return (
    <StatCard
      testId="lease-card"
      label="Scheduler lease"
      value={holder.host}
      detail={
        <span title={`holder ${holder.id}, since ${formatUtc(holder.acquiredAt, 'second')} UTC; the lease lapses when its TTL runs out without a renewal`}>
          pid {holder.pid} · token {holder.token}
          {expires}
        </span>
      }
    />
  );
}

function troubleCount(runs: readonly RunRecord[]): number {
  return runs.filter((run) => run.outcome !== 'ok').length;
}

export function JobsSummary({ runs, lease }: { runs: readonly RunRecord[] | undefined; lease: UseQueryResult<LeaseStatus> }) {
  const now = useNow();
  const latest = runs?.[0];
  const troubled = runs ? troubleCount(runs) : 0;
  const slowest = runs?.reduce<RunRecord | undefined>((worst, run) => ((run.durationMs ?? -1) > (worst?.durationMs ?? -1) ? run : worst), undefined);
  const slow = slowest?.durationMs != null && slowest.durationMs > AGGREGATION_ALERT_SECONDS * 1000;
  return (
    <SimpleGrid cols={{ base: 2, md: 4 }} spacing="md">
      <LeaseCard lease={lease} />
      <StatCard
        testId="latest-run-card"
        label="Latest window"
        value={latest ? formatRelative(latest.startedAt, now) : 'none'}
        detail={latest ? `${latest.shardName} · ${latest.level} ${formatWindow(latest.level, latest.windowStart, latest.windowEnd)} · ${latest.outcome}` : 'no rollup has run'}
        alert={latest && latest.outcome !== 'ok' ? 'red' : undefined}
      />
      <StatCard
        testId="trouble-card"
        label="Not ok"
        value={runs ? `${troubled} / ${runs.length}` : '…'}
        detail={troubled ? 'failed, cancelled or fenced (taken over by a newer scheduler)' : 'every window listed is ok'}
        alert={troubled ? 'red' : undefined}
      />
      <StatCard
        testId="slowest-card"
        label="Slowest window"
        value={slowest?.durationMs != null ? formatDuration(slowest.durationMs) : '—'}
        detail={slowest ? `${slowest.shardName} · ${slowest.level} ${formatWindow(slowest.level, slowest.windowStart, slowest.windowEnd)} · target < 5 min` : 'target < 5 min per window'}
        alert={slow ? 'red' : undefined}
      />
    </SimpleGrid>
  );
}
