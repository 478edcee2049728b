import type { ControlSession, ControlShard } from './control-shard';

/** One row of strata_settings: a named JSON value with who changed it last. */
export interface StoredSetting {
  name: string;
  /** The stored text (JSON); parsing and validating it is the owner's job, with its own error code. */
  value: string;
  updatedAt: Date;
  updatedBy: string;
}

interface SettingRow {
  name: string;
  value: string;
  updated_at: Date;
  updated_by: string;
}

const toSetting = (row: SettingRow): StoredSetting => ({ name: row.name, value: row.value, updatedAt: row.updated_at, updatedBy: row.updated_by });

/** Named settings on the control shard (retention policy, keep-ahead, …), shared by every console and agent. */
export class SettingsStore {
  constructor(private readonly control: ControlShard) {}

  /** The setting, or undefined when it was never set (its owner's defaults apply). */
  async read(name: string): Promise<StoredSetting | undefined> {
    const rows = await this.control.query<SettingRow[]>('SELECT name, value, updated_at, updated_by FROM strata_settings WHERE name = ?', [name]);
    return rows[0] ? toSetting(rows[0]) : undefined;
  }

  /** Inside a transaction: reads and row-locks the setting, so concurrent edits are ordered and each sees the last. */
  async readForUpdate(session: ControlSession, name: string): Promise<StoredSetting | undefined> {
    const rows = await session.query<SettingRow[]>('SELECT name, value, updated_at, updated_by FROM strata_settings WHERE name = ? FOR UPDATE', [name]);
    return rows[0] ? toSetting(rows[0]) : undefined;
  }

  /** Inserts or replaces the setting; inside `session` when given, so it commits with its audit entry. */
  async write(setting: StoredSetting, session?: ControlSession): Promise<void> {
    const sql = `INSERT INTO strata_settings (name, value, updated_at, updated_by) VALUES (?, ?, ?, ?)
                 ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = VALUES(updated_at), updated_by = VALUES(updated_by)`;
    const values = [setting.name, setting.value, setting.updatedAt, setting.updatedBy.slice(0, 255)];
    if (session) await session.query(sql, values);
    else await this.control.query(sql, values);
  }
}
