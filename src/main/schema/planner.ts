import type { Migration } from './migrations';

/** A row of strata_schema_migrations as the planner needs it. */
export interface AppliedMigration {
  version: number;
  name: string;
  checksum: string;
}

export type MigrationPlan =
  | { kind: 'up-to-date'; version: number }
  | { kind: 'apply'; pending: Migration[] }
  /** The shard's records contradict this build; migrating anyway could build on a schema nobody intended. */
  | { kind: 'refuse'; reason: string };

/**
 * Decides which migrations a shard still needs, from what it has recorded. Forward-only: a shard that has
 * a migration this build does not know, an edited migration, or a gap below its latest version is refused.
 */
export function planMigrations(known: readonly Migration[], applied: readonly AppliedMigration[]): MigrationPlan {
  const knownByVersion = new Map(known.map((migration) => [migration.version, migration]));
  const unknown = applied.filter((record) => !knownByVersion.has(record.version)).map((record) => record.version);
  if (unknown.length > 0) {
    return {
      kind: 'refuse',
      reason: `the shard has migration${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}, which this version of Strata does not know; upgrade Strata`,
    };
  }
  const edited = applied.filter((record) => knownByVersion.get(record.version)?.checksum !== record.checksum).map((record) => record.version);
  if (edited.length > 0) {
    return {
      kind: 'refuse',
      reason: `migration ${edited.join(', ')} was applied from different SQL than this version of Strata has (checksum mismatch); run strata schema check`,
    };
  }
  const appliedVersions = new Set(applied.map((record) => record.version));
  const latestApplied = Math.max(0, ...appliedVersions);
  const pending = known.filter((migration) => !appliedVersions.has(migration.version));
  const gaps = pending.filter((migration) => migration.version < latestApplied).map((migration) => migration.version);
  if (gaps.length > 0) {
    return {
      kind: 'refuse',
      reason: `migration ${gaps.join(', ')} is not recorded although ${latestApplied} is; a forward-only history cannot fill a gap, run strata schema check`,
    };
  }
  return pending.length === 0 ? { kind: 'up-to-date', version: latestApplied } : { kind: 'apply', pending };
}
