import { keepPreviousData } from '@tanstack/react-query';
import type { AuditQuery } from '../../../../shared/audit';
import { useChannelQuery } from '../../api/hooks';

export const AUDIT_POLL_MS = 5000;
/** The newest entries shown at once; a filter narrows them down. */
export const AUDIT_LIMIT = 200;

/** How far back the page looks: a span before now, or the whole log. */
export const SINCE_SPANS = [
  { value: '1h', label: 'Last hour', ms: 3_600_000 },
  { value: '24h', label: '24 hours', ms: 86_400_000 },
  { value: '7d', label: '7 days', ms: 7 * 86_400_000 },
  { value: '30d', label: '30 days', ms: 30 * 86_400_000 },
  { value: 'all', label: 'All time', ms: undefined },
] as const;
export type SinceSpan = (typeof SINCE_SPANS)[number]['value'];

/** The query for a kind (or every kind) and a span; `since` is taken from the clock at each poll, so it moves with it. */
export function auditQuery(kind: string | undefined, span: SinceSpan, now: number): AuditQuery {
  const ms = SINCE_SPANS.find((entry) => entry.value === span)?.ms;
  return { kind, since: ms === undefined ? undefined : new Date(now - ms).toISOString(), limit: AUDIT_LIMIT };
}

/** The cluster's audit log (every console, CLI and agent writes the same one), newest first. */
export function useAuditLog(kind: string | undefined, span: SinceSpan) {
  return useChannelQuery(['audit:list', kind ?? 'all', span], (api) => api.audit.list(auditQuery(kind, span, Date.now())), {
    refetchInterval: AUDIT_POLL_MS,
    // Changing a filter keeps the old rows until the new ones arrive, instead of flashing a loader.
    placeholderData: keepPreviousData,
  });
}
