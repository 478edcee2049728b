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
