import type { AuditEntryRecord, AuditQuery } from '../../shared/audit';
import type { ScopedLogger } from '../log';
import type { ControlSession, ControlShard } from './control-shard';

/** One manual or scheduled operation: who, where, what and the operation's details. */
export interface AuditEntry {
  at: Date;
  actor: string;
  host: string;
  /** `domain.verb`, e.g. `retention.set`, `backfill.cancel`; `strata audit --kind retention` filters on the domain. */
  action: string;
  target: string;
  /** Free text or JSON with the operation's details. */
  detail: string;
}

/** The column limits of strata_audit_log; longer values are cut, never refused. */
const LIMITS = { actor: 255, host: 255, action: 64, target: 255, detailBytes: 65_535 } as const;
const INSERT_SQL = 'INSERT INTO strata_audit_log (at, actor, host, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)';

interface AuditRow {
  id: number;
  at: Date;
  actor: string;
  host: string;
  action: string;
  target: string | null;
  detail: string | null;
}

/** The cluster's audit log on the control shard: every console and agent writes and reads the same one. */
export class AuditLog {
  constructor(
    private readonly control: ControlShard,
    private readonly log: ScopedLogger,
  ) {}

  /**
   * Writes an entry. Inside a transaction (`session`), the entry commits or rolls back with the change it
   * describes; otherwise it stands alone and an error is thrown to the caller.
   */
  async write(entry: AuditEntry, session?: ControlSession): Promise<void> {
    const values = auditValues(entry);
    if (session) await session.query(INSERT_SQL, values);
    else await this.control.query(INSERT_SQL, values);
  }

  /**
   * Writes an entry whose job already ran: a control shard that is down must not fail it; the job itself is in
   * the run history and the log.
   */
  async writeBestEffort(entry: AuditEntry): Promise<void> {
    try {
      await this.write(entry);
    } catch (error) {
      this.log.warn(`could not write the audit entry ${entry.action} ${entry.target}`, error);
    }
  }

  /** Entries newest first, filtered by time and by the action's domain (`retention`) or full name (`retention.set`). */
  async list(query: AuditQuery): Promise<AuditEntryRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.since) {
      where.push('at >= ?');
      params.push(new Date(query.since));
    }
    if (query.kind) {
      where.push('(action = ? OR action LIKE ?)');
      params.push(query.kind, `${query.kind.replace(/[\\%_]/g, (c) => `\\${c}`)}.%`);
    }
    const limit = Math.max(1, Math.min(1000, Math.floor(query.limit ?? 200)));
    const rows = await this.control.query<AuditRow[]>(
      `SELECT id, at, actor, host, action, target, detail FROM strata_audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ?`,
      [...params, limit],
    );
    return rows.map((row) => ({ id: Number(row.id), at: row.at.toISOString(), actor: row.actor, host: row.host, action: row.action, target: row.target, detail: row.detail ?? '' }));
  }
}

export function auditValues(entry: AuditEntry): unknown[] {
  return [
    entry.at,
    entry.actor.slice(0, LIMITS.actor),
    entry.host.slice(0, LIMITS.host),
    entry.action.slice(0, LIMITS.action),
    entry.target.slice(0, LIMITS.target),
    cutToBytes(entry.detail, LIMITS.detailBytes),
  ];
}

/** TEXT holds 65,535 bytes, not characters: cut on a character boundary below that. */
function cutToBytes(text: string, bytes: number): string {
  if (Buffer.byteLength(text) <= bytes) return text;
  let cut = text.slice(0, bytes);
  while (Buffer.byteLength(cut) > bytes) cut = cut.slice(0, Math.floor(cut.length * 0.9));
  return cut;
}
