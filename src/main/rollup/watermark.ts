import type { RollupLevel, WatermarkEffect } from '../../shared/rollup';

/** Runs one statement on a shard session (a mysql2 connection's `query`, or ClusterConnections.query bound to a shard). */
export type ShardQuery = (sql: string, params?: unknown[]) => Promise<unknown>;

export interface AdvanceWatermarkRequest {
  level: RollupLevel;
  /** The new exclusive end; the watermark only ever moves forward. */
  to: Date;
  /**
   * The run's lease token. The move happens only when the stored token is not higher, and stores the higher of
   * the two, so a holder whose lease was taken over can never move a watermark again. A run without a lease
   * (manual runs, tests) counts as token 0: it may move a watermark only as long as no leased run ever has.
   */
  fencingToken?: number;
  /** Start of the first window, recorded once when the watermark begins (where complete data starts). */
  coveredFrom?: Date;
  by: string;
  at: Date;
}

interface ResultHeader {
  affectedRows?: number;
}

/** What a watermark move did, and the token the watermark holds afterwards. */
export interface WatermarkMove {
  effect: WatermarkEffect;
  storedToken: number;
}

/**
 * Moves a level's watermark on one shard with a single conditional UPDATE that carries the fencing token.
 * Returns `advanced`, `fenced` (a higher token is stored: nothing moved) or `unchanged` (already there or beyond).
 */
export async function advanceWatermark(query: ShardQuery, request: AdvanceWatermarkRequest): Promise<WatermarkEffect> {
  return (await moveWatermarkRow(query, request)).effect;
}

/** advanceWatermark, also answering the token stored, so a fenced run can say whose the watermark is. */
export async function moveWatermarkRow(query: ShardQuery, request: AdvanceWatermarkRequest): Promise<WatermarkMove> {
  const token = request.fencingToken ?? 0;
  await query('INSERT IGNORE INTO strata_watermarks (level, watermark, fencing_token) VALUES (?, NULL, 0)', [request.level]);
  const result = (await query(
    `UPDATE strata_watermarks
        SET watermark = ?, fencing_token = GREATEST(fencing_token, ?), updated_at = ?, updated_by = ?, covered_from = COALESCE(covered_from, ?)
      WHERE level = ? AND fencing_token <= ? AND (watermark IS NULL OR watermark < ?)`,
    [request.to, token, request.at, request.by, request.coveredFrom ?? null, request.level, token, request.to],
  )) as ResultHeader;
  if (Number(result.affectedRows ?? 0) > 0) return { effect: 'advanced', storedToken: token };
  const rows = (await query('SELECT fencing_token FROM strata_watermarks WHERE level = ?', [request.level])) as Array<{ fencing_token: number | string }>;
  const storedToken = Number(rows[0]?.fencing_token ?? 0);
  return { effect: storedToken > token ? 'fenced' : 'unchanged', storedToken };
}

export interface StoredWatermark {
  level: string;
  watermark: Date | null;
  coveredFrom: Date | null;
  fencingToken: number;
  updatedAt: Date | null;
  updatedBy: string | null;
}

/** Every level's watermark row on one shard. */
export async function readWatermarks(query: ShardQuery): Promise<StoredWatermark[]> {
  const rows = (await query('SELECT level, watermark, covered_from, fencing_token, updated_at, updated_by FROM strata_watermarks')) as Array<{
    level: string;
    watermark: Date | null;
    covered_from: Date | null;
    fencing_token: number | string;
    updated_at: Date | null;
    updated_by: string | null;
  }>;
  return rows.map((row) => ({
    level: row.level,
    watermark: row.watermark,
    coveredFrom: row.covered_from,
    fencingToken: Number(row.fencing_token),
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  }));
}
