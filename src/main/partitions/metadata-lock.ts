/**
 * DDL that must never stall ingestion. A `DROP`/`REORGANIZE PARTITION` (or `LOCK TABLES … WRITE`) waiting for the
 * table's metadata lock behind a long open transaction makes every INSERT queued behind it wait too. So such a
 * statement waits at most LOCK_WAIT_SECONDS per attempt, is retried a few times with a pause in which the queued
 * inserts go through, and is then given up and reported instead of waiting on.
 */
import { ErrorCode, StrataError } from '../../shared/errors';

/**
 * The session's `lock_wait_timeout` for DDL, in seconds. MariaDB truncates fractions (`ALTER TABLE t WAIT 0.3` acts
 * as NOWAIT) and MySQL 8 takes only whole seconds of at least 1 and has no `WAIT n` on ALTER TABLE, so 1 s is the
 * shortest wait both honour. NOWAIT would fail under steady ingestion, whose own inserts hold the lock briefly.
 */
export const LOCK_WAIT_SECONDS = 1;
/** Pauses between attempts: the inserts queued behind an attempt drain in the first few milliseconds of each. */
export const LOCK_RETRY_PAUSES_MS: readonly number[] = [250, 1000];

/** The subset of a session this needs: one connection, since lock_wait_timeout belongs to the session. */
export type LockWaitQuery = (sql: string, params?: unknown[]) => Promise<unknown>;

export interface ShortLockWaitOptions {
  pausesMs?: readonly number[];
  signal?: AbortSignal;
  /** Milliseconds on a monotonic clock; performance.now() by default. */
  monotonicNow?: () => number;
}

export type ShortLockWaitResult<T> = { done: true; value: T } | { done: false; waitedSeconds: number; reason: string };

/** ER_LOCK_WAIT_TIMEOUT (1205), as the driver or a coded shard error carries it. */
export function isLockWaitTimeout(error: unknown): boolean {
  for (let at: unknown = error; at && typeof at === 'object'; at = (at as { cause?: unknown }).cause) {
    const driver = at as { code?: unknown; errno?: unknown };
    if (driver.code === 'ER_LOCK_WAIT_TIMEOUT' || driver.errno === 1205) return true;
  }
  return false;
}

/** The sentence a skipped step reports. */
export function metadataLockReason(waitedSeconds: number): string {
  return `a transaction held the table's metadata lock for ${waitedSeconds} s`;
}

const pause = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Runs `step` on the session with a short lock wait, retrying it after a lock wait timeout; after the last attempt
 * (or a cancel) answers `done: false` with how long the lock was waited for. Any other error is thrown. `step`
 * must be safe to run again after a lock wait timeout (nothing it does has happened then).
 */
export async function withShortLockWait<T>(query: LockWaitQuery, step: () => Promise<T>, options: ShortLockWaitOptions = {}): Promise<ShortLockWaitResult<T>> {
  const now = options.monotonicNow ?? (() => performance.now());
  const pauses = options.pausesMs ?? LOCK_RETRY_PAUSES_MS;
  await query(`SET SESSION lock_wait_timeout = ${LOCK_WAIT_SECONDS}`);
  let waitedMs = 0;
  try {
    for (let attempt = 0; ; attempt += 1) {
      const started = now();
      try {
        return { done: true, value: await step() };
      } catch (error) {
        if (!isLockWaitTimeout(error)) throw error;
        waitedMs += now() - started;
      }
      if (attempt >= pauses.length || options.signal?.aborted) break;
      await pause(pauses[attempt]!, options.signal);
    }
  } finally {
    await query('SET SESSION lock_wait_timeout = DEFAULT');
  }
  const waitedSeconds = Math.max(LOCK_WAIT_SECONDS, Math.round(waitedMs / 1000));
  return { done: false, waitedSeconds, reason: metadataLockReason(waitedSeconds) };
}

/** Throws the skip as a coded error, for callers that report failures per statement. */
export function lockSkipError(where: string, result: { reason: string }): StrataError {
  return new StrataError(ErrorCode.DdlLockBusy, `${where}: skipped: ${result.reason}; the next run does it`);
}
