import { hostname } from 'node:os';
import { z } from 'zod';
import { ErrorCode, StrataError } from '../../shared/errors';
import type { ClusterConnections } from '../cluster/connections';
import { osUser } from '../identity';
import type { ScopedLogger } from '../log';
import { MaintenanceHistory, HISTORY_CONTROL_SHARD } from '../retention/history';
import { PARTITION_SCHEMES, type PartitionedTable } from '../schema/partitions';
import { DEFAULT_KEEP_AHEAD, describeKeepAhead, validateKeepAhead, type KeepAhead, type KeepAheadOptions } from './planner';

/** The strata_settings row holding per-table keep-ahead overrides, so every console and agent adds alike. */
export const KEEP_AHEAD_SETTING = 'keep-ahead';

const keepAheadSchema = z.union([z.strictObject({ days: z.number().int().min(1) }), z.strictObject({ months: z.number().int().min(1) })]);
const storedSchema = z.record(z.string(), keepAheadSchema);

export interface KeepAheadEntry {
  table: PartitionedTable;
  keep: KeepAhead;
  isDefault: boolean;
  /** `3 months`, for people. */
  description: string;
}

/** Reads and changes how far ahead each table keeps partitions, stored on the control shard and audited. */
export class KeepAheadSettings {
  private readonly history: MaintenanceHistory;

  constructor(
    private readonly connections: ClusterConnections,
    log: ScopedLogger,
  ) {
    this.history = new MaintenanceHistory(connections, log);
  }

  /** The stored overrides; an unreadable control shard or row gives none, which only means the defaults. */
  async stored(): Promise<KeepAheadOptions> {
    const rows = await this.connections.query<Array<{ value: string }>>(HISTORY_CONTROL_SHARD, 'SELECT value FROM strata_settings WHERE name = ?', [KEEP_AHEAD_SETTING]);
    if (!rows[0]) return {};
    let value: unknown;
    try {
      value = JSON.parse(rows[0].value);
    } catch {
      value = undefined;
    }
    const parsed = storedSchema.safeParse(value);
    if (!parsed.success) throw new StrataError(ErrorCode.PartitionOptionsInvalid, 'the stored keep-ahead settings are unreadable; set them again with strata partitions ahead');
    const options = parsed.data as KeepAheadOptions;
    validateKeepAhead(options);
    return options;
  }

  entries(stored: KeepAheadOptions): KeepAheadEntry[] {
    return (Object.keys(PARTITION_SCHEMES) as PartitionedTable[]).map((table) => {
      const keep = stored[table] ?? DEFAULT_KEEP_AHEAD[table];
      return { table, keep, isDefault: stored[table] === undefined, description: describeKeepAhead(keep) };
    });
  }

  async set(table: string, keep: KeepAhead): Promise<KeepAheadEntry[]> {
    validateKeepAhead({ [table]: keep } as KeepAheadOptions);
    const current = await this.stored();
    const next: KeepAheadOptions = { ...current, [table]: keep };
    const at = new Date();
    const actor = osUser();
    const host = hostname();
    await this.connections.query(
      HISTORY_CONTROL_SHARD,
      `INSERT INTO strata_settings (name, value, updated_at, updated_by) VALUES (?, ?, ?, ?)
       ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = VALUES(updated_at), updated_by = VALUES(updated_by)`,
      [KEEP_AHEAD_SETTING, JSON.stringify(next), at, `${actor}@${host}`.slice(0, 255)],
    );
    const before = current[table as PartitionedTable] ?? DEFAULT_KEEP_AHEAD[table as PartitionedTable];
    await this.history.audit({ at, actor, host, action: 'partitions.keep-ahead', target: table, detail: `${describeKeepAhead(before)} → ${describeKeepAhead(keep)}` });
    return this.entries(next);
  }
}
