import { z } from 'zod';

/** `strata audit` and the Audit page: newest first, optionally since a time and of one kind (`retention` or `retention.set`). */
export const auditQuerySchema = z.strictObject({
  since: z.iso.datetime({ offset: true }).optional(),
  kind: z
    .string()
    .regex(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/, 'a kind is an action or its domain, such as retention or retention.set')
    .max(64)
    .optional(),
  limit: z.number().int().min(1).max(1000).optional(),
});
export type AuditQuery = z.infer<typeof auditQuerySchema>;

export const auditEntryRecordSchema = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z.string(),
  host: z.string(),
  action: z.string(),
  target: z.string().nullable(),
  detail: z.string(),
});
export type AuditEntryRecord = z.infer<typeof auditEntryRecordSchema>;

/** The domains of the actions Strata writes today (`retention.set`, `schedule.set`, …); a kind filter may name others. */
export const AUDIT_KINDS = ['alerts', 'backfill', 'cache', 'partitions', 'reconcile', 'retention', 'schedule'] as const;

function parsedJsonDetail(detail: string): unknown {
  const trimmed = detail.trim();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return undefined;
  }
}

/** A detail on one line: JSON without its spaces, free text with its line breaks folded. */
export function compactAuditDetail(detail: string): string {
  const json = parsedJsonDetail(detail);
  return json === undefined ? detail.trim().replace(/\s*\n\s*/g, ' ') : JSON.stringify(json);
}

/** A detail to read in full: JSON indented, free text as written. */
export function fullAuditDetail(detail: string): string {
  const json = parsedJsonDetail(detail);
  return json === undefined ? detail : JSON.stringify(json, null, 2);
}
