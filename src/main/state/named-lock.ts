import type { ShardSession } from '../cluster/connections';

/** A session that can hold a MySQL named lock; GET_LOCK belongs to the session that took it. */
export type LockSession = Pick<ShardSession, 'query'>;

/**
 * How long past its own wait GET_LOCK may take to answer. The wait is not a sign of a shard in trouble, so the
 * statement's deadline is the wait plus this, not the read deadline, which may be shorter than the wait.
 */
const LOCK_ANSWER_MARGIN_MS = 30_000;

/**
 * Takes `GET_LOCK(name, waitSeconds)` on the session: true when it is held, false when someone else held it for the
 * whole wait. The statements that need the lock must run on this same session.
 */
export async function acquireNamedLock(session: LockSession, name: string, waitSeconds: number): Promise<boolean> {
  const rows = await session.query<Array<{ acquired: number | string | null }>>('SELECT GET_LOCK(?, ?) AS acquired', [name, waitSeconds], {
    timeoutMs: waitSeconds * 1000 + LOCK_ANSWER_MARGIN_MS,
  });
  return Number(rows[0]?.acquired) === 1;
}

/** Releases the lock; true when it was released, false when the session could not say (it is gone: so is the lock). */
export async function releaseNamedLock(session: LockSession, name: string): Promise<boolean> {
  try {
    await session.query('SELECT RELEASE_LOCK(?)', [name]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `work` while holding the named lock on `session`, or calls `busy` when the lock could not be had within
 * the wait. The lock is released afterwards, also when `work` throws.
 */
export async function withNamedLock<T>(session: LockSession, name: string, waitSeconds: number, work: () => Promise<T>, busy: () => T | Promise<T>): Promise<T> {
  if (!(await acquireNamedLock(session, name, waitSeconds))) return busy();
  try {
    return await work();
  } finally {
    await releaseNamedLock(session, name);
  }
}
