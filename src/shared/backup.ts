import { z } from 'zod';
import { problemSchema } from './problem';
import { rollupLevelSchema } from './rollup';

/**
 * Backups: one backup set = one compressed mysqldump/mariadb-dump file per shard, dumped in parallel, described by a
 * manifest (JSON beside the files) and by a catalog on the control shard (strata_backup_sets, strata_backup_parts).
 * Shared by the engine, the CLI and the console; times are ISO-8601 UTC strings.
 */

const isoTime = z.string();
const shardIndex = z.number().int().nonnegative();

/** The aggregate tables `--tables` chooses from, by short name. */
export const BACKUP_TABLE_CHOICES = { hourly: 'analytics_hourly', daily: 'analytics_daily', monthly: 'analytics_monthly' } as const;
export type BackupTableChoice = keyof typeof BACKUP_TABLE_CHOICES;
export const backupTableChoiceSchema = z.enum(['hourly', 'daily', 'monthly']);

/** `--include-raw` adds this one. */
export const BACKUP_RAW_TABLE = 'analytics_realtime';

/**
 * Strata's own state that every set carries, so a restore knows which windows the data holds: the watermarks (how
 * far each level is rolled up, and from where it is complete) and the run history (which windows committed, the
 * one definition of a completed window that watermarks extend over and that reconciliation reads).
 */
export const BACKUP_STATE_TABLES = ['strata_watermarks', 'strata_job_runs'] as const;

export const BACKUP_COMPRESSIONS = ['zstd', 'gzip'] as const;
export const backupCompressionSchema = z.enum(BACKUP_COMPRESSIONS);
export type BackupCompression = z.infer<typeof backupCompressionSchema>;

export const dumpClientKindSchema = z.enum(['mariadb-dump', 'mysqldump']);

/** The dump client found on this host. `flavor` is whose client it is (MariaDB's mysqldump is a mariadb one). */
export const dumpClientSchema = z.object({
  path: z.string(),
  kind: dumpClientKindSchema,
  flavor: z.enum(['mariadb', 'mysql']),
  /** As it reports itself ("10.11.6", "8.0.36"). */
  version: z.string(),
  /** The full first line of `--version`. */
  versionLine: z.string(),
});

export const backupRequestSchema = z
  .object({
    /** Shard indexes; all shards when absent. */
    shards: z.array(shardIndex).max(1024).optional(),
    /** Aggregate tables by short name; all three when absent. The state tables are always included. */
    tables: z.array(backupTableChoiceSchema).min(1).max(3).optional(),
    includeRaw: z.boolean().default(false),
    /** Destination folder; the profile's `backup.dest`, else the data directory's `backups` folder, when absent. */
    dest: z.string().min(1).max(4096).optional(),
    dryRun: z.boolean().default(false),
  })
  .strict();

/** backup:run starts dumps; the console asks for confirmation first and says so. */
export const backupRunRequestSchema = backupRequestSchema.extend({ confirm: z.literal(true) }).strict();

export const backupTableEstimateSchema = z.object({
  table: z.string(),
  estimatedRows: z.number().int().nonnegative(),
  /** information_schema data + index length (a dump is roughly its data length). */
  estimatedBytes: z.number().int().nonnegative(),
});

export const backupRateSchema = z.object({
  /** `history`: bytes per second of earlier backups of this shard; `measured`: a sample read now; `fallback`: assumed. */
  basis: z.enum(['history', 'measured', 'fallback']),
  bytesPerSecond: z.number().positive(),
  note: z.string(),
});

/** What a dry run says for one shard. */
export const backupShardPlanSchema = z.object({
  shard: shardIndex,
  shardName: z.string(),
  serverVersion: z.string().nullable(),
  /** Whether the server has binary logging on, so the dump records its position (`--master-data=2` / `--gtid`). */
  binaryLogging: z.boolean(),
  tables: z.array(backupTableEstimateSchema),
  estimatedBytes: z.number().int().nonnegative(),
  /** Expected size of the compressed file, from earlier sets' ratio or an assumed one. */
  estimatedFileBytes: z.number().int().nonnegative(),
  estimatedSeconds: z.number().nonnegative(),
  rate: backupRateSchema,
  /** The destination file this shard would write. */
  file: z.string(),
  /** The exact argv; the secret part is the defaults file (`--defaults-extra-file=<private temp>/shard0.cnf`). */
  command: z.array(z.string()),
  commandLine: z.string(),
  /** A job of this shard that blocks the backup (prune, maintenance, convert), in a sentence. */
  blockedBy: z.string().optional(),
  problem: problemSchema.optional(),
});

export const backupPlanSchema = z.object({
  plannedAt: isoTime,
  dest: z.string(),
  compression: backupCompressionSchema,
  client: dumpClientSchema,
  tables: z.array(z.string()),
  parallelism: z.number().int().positive(),
  shards: z.array(backupShardPlanSchema),
  estimatedFileBytes: z.number().int().nonnegative(),
  /** Free bytes of the filesystem holding the destination (statfs). */
  freeBytes: z.number().int().nonnegative(),
  /** Set when the destination lacks room for the estimate; the run refuses before any dump starts. */
  refusal: z.string().optional(),
});

export const binlogPositionSchema = z.object({
  file: z.string().nullable(),
  position: z.number().int().nonnegative().nullable(),
  /** MariaDB `gtid_binlog_pos` / MySQL `gtid_executed` at the snapshot. */
  gtid: z.string().nullable(),
});

export const backupPartOutcomeSchema = z.enum(['running', 'ok', 'failed', 'cancelled', 'skipped']);
export const backupSetStateSchema = z.enum(['running', 'cancelling', 'ok', 'partial', 'failed', 'cancelled']);
export type BackupSetState = z.infer<typeof backupSetStateSchema>;
export type BackupPartOutcome = z.infer<typeof backupPartOutcomeSchema>;

export const backupTableRowsSchema = z.object({
  table: z.string(),
  /** Rows in the dump itself: counted from its INSERT statements as they pass, i.e. of the dump's own snapshot. */
  rows: z.number().int().nonnegative(),
});

export const backupWatermarkSchema = z.object({
  level: rollupLevelSchema,
  watermark: isoTime.nullable(),
  coveredFrom: isoTime.nullable(),
  fencingToken: z.number().int().nonnegative(),
});

/** One shard's part of a set, as the manifest holds it. */
export const backupPartSchema = z.object({
  shard: shardIndex,
  shardName: z.string(),
  host: z.string(),
  port: z.number().int(),
  database: z.string(),
  serverVersion: z.string().nullable(),
  client: dumpClientSchema,
  /** The exact options given to the client after the defaults file (no secrets are ever among them). */
  options: z.array(z.string()),
  tables: z.array(z.string()),
  position: binlogPositionSchema.nullable(),
  /** Base name of the file beside the manifest. */
  file: z.string(),
  /** Compressed bytes written, and uncompressed bytes the dump produced. */
  bytes: z.number().int().nonnegative(),
  dumpBytes: z.number().int().nonnegative(),
  sha256: z.string().nullable(),
  startedAt: isoTime.nullable(),
  finishedAt: isoTime.nullable(),
  durationMs: z.number().int().nonnegative(),
  rowCounts: z.array(backupTableRowsSchema),
  /** The shard's watermarks as the dump holds them (parsed from its strata_watermarks rows). */
  watermarks: z.array(backupWatermarkSchema),
  outcome: backupPartOutcomeSchema,
  error: problemSchema.nullable(),
});

export const BACKUP_MANIFEST_FORMAT = 1;

export const backupManifestSchema = z.object({
  format: z.literal(BACKUP_MANIFEST_FORMAT),
  setId: z.string(),
  /** `user@host` of whoever started it; the host and pid that ran it. */
  createdBy: z.string(),
  host: z.string(),
  pid: z.number().int().nonnegative(),
  profileName: z.string(),
  startedAt: isoTime,
  finishedAt: isoTime.nullable(),
  state: backupSetStateSchema,
  dest: z.string(),
  compression: backupCompressionSchema,
  /** How the files were compressed: "zstd -c -3 (zstd 1.5.4)" or "gzip (node zlib, level 6)". */
  compressor: z.string(),
  tables: z.array(z.string()),
  includeRaw: z.boolean(),
  parts: z.array(backupPartSchema),
  error: z.string().nullable(),
});

/** Verification as BK2's verify fills it, per part. */
export const backupVerificationSchema = z.object({
  verifiedAt: isoTime.nullable(),
  verifyOutcome: z.enum(['ok', 'failed']).nullable(),
  verifyMs: z.number().int().nonnegative().nullable(),
  verifyError: z.string().nullable(),
});

export const backupPartRecordSchema = backupPartSchema.extend(backupVerificationSchema.shape);

/** A set as the catalog holds it. */
export const backupSetRecordSchema = z.object({
  id: z.string(),
  state: backupSetStateSchema,
  createdBy: z.string(),
  host: z.string(),
  pid: z.number().int().nonnegative(),
  startedAt: isoTime,
  finishedAt: isoTime.nullable(),
  updatedAt: isoTime,
  dest: z.string(),
  manifestPath: z.string(),
  compression: backupCompressionSchema,
  tables: z.array(z.string()),
  includeRaw: z.boolean(),
  bytes: z.number().int().nonnegative(),
  error: z.string().nullable(),
  parts: z.array(backupPartRecordSchema),
});

/** What an alert watches: per shard, the newest set whose part of it passed verification. */
export const newestVerifiedSchema = z.object({
  shard: shardIndex,
  shardName: z.string(),
  setId: z.string().nullable(),
  /** When that backup was taken (its part finished), and its age at `checkedAt`; null when none is verified. */
  takenAt: isoTime.nullable(),
  verifiedAt: isoTime.nullable(),
  ageSeconds: z.number().int().nonnegative().nullable(),
});

export const backupListRequestSchema = z.object({ limit: z.number().int().min(1).max(500).default(50) }).strict();

export const backupListSchema = z.object({
  checkedAt: isoTime,
  sets: z.array(backupSetRecordSchema),
  newestVerified: z.array(newestVerifiedSchema),
});

export const backupIdRequestSchema = z.object({ id: z.string().min(1).max(64) }).strict();

export const backupProgressSchema = z.object({
  setId: z.string(),
  /** `shard`: a shard's numbers moved or its part ended; `finished`: the whole set ended. */
  kind: z.enum(['started', 'shard', 'finished']),
  state: backupSetStateSchema,
  shard: shardIndex.optional(),
  shardName: z.string().optional(),
  outcome: backupPartOutcomeSchema.optional(),
  /** Compressed bytes written to the file and uncompressed bytes of the dump so far. */
  bytesWritten: z.number().int().nonnegative(),
  dumpBytes: z.number().int().nonnegative(),
  tablesDone: z.number().int().nonnegative(),
  tablesTotal: z.number().int().nonnegative(),
  currentTable: z.string().nullable(),
  rows: z.number().int().nonnegative(),
  /** Uncompressed MB (10^6 bytes) per second of the dump. */
  mbPerSecond: z.number().nonnegative(),
  /** From the estimated size; null when nothing is known yet. */
  etaSeconds: z.number().nonnegative().nullable(),
  elapsedMs: z.number().int().nonnegative(),
  error: z.string().optional(),
});

// Verify and restore (BK2): request and answer shapes the contract declares.
export const backupVerifyRequestSchema = z.object({ id: z.string().min(1).max(64), shards: z.array(shardIndex).max(1024).optional() }).strict();

export const backupVerifyTableSchema = z.object({
  table: z.string(),
  expectedRows: z.number().int().nonnegative(),
  actualRows: z.number().int().nonnegative().nullable(),
  checksumMatches: z.boolean().nullable(),
});

export const backupVerifyReportSchema = z.object({
  setId: z.string(),
  parts: z.array(
    z.object({
      shard: shardIndex,
      shardName: z.string(),
      outcome: z.enum(['ok', 'failed']),
      verifyMs: z.number().int().nonnegative(),
      error: z.string().nullable(),
      tables: z.array(backupVerifyTableSchema),
    }),
  ),
});

export const backupRestoreRequestSchema = z
  .object({
    id: z.string().min(1).max(64),
    shard: shardIndex,
    tables: z.array(z.string()).max(16).optional(),
    /** The scratch database to restore into; a generated name when absent. */
    into: z.string().min(1).max(64).optional(),
    /** Into the live database: the scheduler must be paused for the shard, watermarks go back to the backup's. */
    replace: z.boolean().default(false),
    confirm: z.literal(true),
  })
  .strict();

export const backupRestoreReportSchema = z.object({
  setId: z.string(),
  shard: shardIndex,
  shardName: z.string(),
  database: z.string(),
  replaced: z.boolean(),
  tables: z.array(backupTableRowsSchema),
  watermarks: z.array(backupWatermarkSchema),
  durationMs: z.number().int().nonnegative(),
});

export type BackupRequest = z.infer<typeof backupRequestSchema>;
export type BackupRequestInput = z.input<typeof backupRequestSchema>;
export type BackupRunRequest = z.infer<typeof backupRunRequestSchema>;
export type DumpClient = z.infer<typeof dumpClientSchema>;
export type BackupTableEstimate = z.infer<typeof backupTableEstimateSchema>;
export type BackupRate = z.infer<typeof backupRateSchema>;
export type BackupShardPlan = z.infer<typeof backupShardPlanSchema>;
export type BackupPlan = z.infer<typeof backupPlanSchema>;
export type BinlogPosition = z.infer<typeof binlogPositionSchema>;
export type BackupTableRows = z.infer<typeof backupTableRowsSchema>;
export type BackupWatermark = z.infer<typeof backupWatermarkSchema>;
export type BackupPart = z.infer<typeof backupPartSchema>;
export type BackupManifest = z.infer<typeof backupManifestSchema>;
export type BackupVerification = z.infer<typeof backupVerificationSchema>;
export type BackupPartRecord = z.infer<typeof backupPartRecordSchema>;
export type BackupSetRecord = z.infer<typeof backupSetRecordSchema>;
export type NewestVerified = z.infer<typeof newestVerifiedSchema>;
export type BackupList = z.infer<typeof backupListSchema>;
export type BackupProgress = z.infer<typeof backupProgressSchema>;
export type BackupVerifyRequest = z.infer<typeof backupVerifyRequestSchema>;
export type BackupVerifyReport = z.infer<typeof backupVerifyReportSchema>;
export type BackupRestoreRequest = z.infer<typeof backupRestoreRequestSchema>;
export type BackupRestoreReport = z.infer<typeof backupRestoreReportSchema>;

/** The tables a request dumps, in dump order: the chosen aggregates, raw when asked, then the state tables. */
export function backupTables(request: Pick<BackupRequest, 'tables' | 'includeRaw'>): string[] {
  const choices = request.tables ?? (Object.keys(BACKUP_TABLE_CHOICES) as BackupTableChoice[]);
  const aggregates = (Object.keys(BACKUP_TABLE_CHOICES) as BackupTableChoice[]).filter((choice) => choices.includes(choice)).map((choice) => BACKUP_TABLE_CHOICES[choice]);
  return [...aggregates, ...(request.includeRaw ? [BACKUP_RAW_TABLE] : []), ...BACKUP_STATE_TABLES];
}

/** The file of one shard's part: `<set id>-shard<index>.sql.zst` (or `.sql.gz`). */
export function backupFileName(setId: string, shard: number, compression: BackupCompression): string {
  return `${setId}-shard${shard}.sql.${compression === 'zstd' ? 'zst' : 'gz'}`;
}

export function backupManifestName(setId: string): string {
  return `${setId}.manifest.json`;
}

// Retention of backups (BK2): the stored policy and the prune's answer.
export const backupPruneRequestSchema = z.object({ dryRun: z.boolean().default(false) }).strict();
export const backupPruneReportSchema = z.object({
  dryRun: z.boolean(),
  removed: z.array(z.object({ setId: z.string(), reason: z.string(), bytes: z.number().int().nonnegative() })),
  kept: z.array(z.object({ setId: z.string(), reason: z.string() })),
});
export type BackupPruneRequest = z.infer<typeof backupPruneRequestSchema>;
export type BackupPruneRequestInput = z.input<typeof backupPruneRequestSchema>;
export type BackupPruneReport = z.infer<typeof backupPruneReportSchema>;

/** The stored backup retention as `backup:retention` answers it (the console shows it beside the schedule). */
export const backupRetentionEntrySchema = z.object({
  policy: z.object({ keepSets: z.number().int().positive().nullable(), keepDays: z.number().int().positive().nullable() }),
  isDefault: z.boolean(),
  changedBy: z.string().optional(),
  changedAt: z.string().optional(),
  description: z.string(),
});
export type BackupRetentionEntryView = z.infer<typeof backupRetentionEntrySchema>;
