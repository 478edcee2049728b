import { hostname } from 'node:os';
import { z } from 'zod';
import { ErrorCode, StrataError } from '../../shared/errors';
import { osUser } from '../identity';
import type { ClusterState } from '../state';
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
  constructor(private readonly state: Pick<ClusterState, 'settings' | 'audit'>) {}

  /** The stored overrides; an unreadable control shard or row gives none, which only means the defaults. */
  async stored(): Promise<KeepAheadOptions> {
    const setting = await this.state.settings.read(KEEP_AHEAD_SETTING);
    if (!setting) return {};
    let value: unknown;
    try {
      value = JSON.parse(setting.value);
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
    await this.state.settings.write({ name: KEEP_AHEAD_SETTING, value: JSON.stringify(next), updatedAt: at, updatedBy: `${actor}@${host}` });
    const before = current[table as PartitionedTable] ?? DEFAULT_KEEP_AHEAD[table as PartitionedTable];
    await this.state.audit.writeBestEffort({ at, actor, host, action: 'partitions.keep-ahead', target: table, detail: `${describeKeepAhead(before)} → ${describeKeepAhead(keep)}` });
    return this.entries(next);
  }
}
