import { describe, expect, it } from 'vitest';
import { AUDIT_KINDS, auditQuerySchema } from '../../src/shared/audit';

describe('audit kinds', () => {
  it('the Audit page and strata audit --help offer the domain of every action a manual job writes, reconcile.run included', () => {
    for (const action of ['backfill.cancel', 'partitions.apply', 'reconcile.run', 'retention.set', 'schedule.set']) {
      expect(AUDIT_KINDS).toContain(action.split('.')[0]);
    }
    for (const kind of AUDIT_KINDS) expect(auditQuerySchema.safeParse({ kind }).success).toBe(true);
  });
});
