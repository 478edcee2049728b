import type { PoolConnection } from 'mysql2/promise';

/** A session that can hold a MySQL named lock; GET_LOCK belongs to the session that took it. */
export type LockSession = Pick<PoolConnection, 'query'>;

/**
 * Takes `GET_LOCK(name, waitSeconds)` on the session: true when it is held, false when someone else held it for the
 * whole wait. The statements that need the lock must run on this same session.
 */
export async function acquireNamedLock(session: LockSession, name: string, waitSeconds: number): Promise<boolean> {
  const [rows] = (await session.query('SELECT GET_LOCK(?, ?) AS acquired', [name, waitSeconds])) as unknown as [Array<{ acquired: number | string | null }>];
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
