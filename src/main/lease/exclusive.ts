import { ErrorCode, StrataError } from '../../shared/errors';
import type { ScopedLogger } from '../log';
import { LeaseKeeper } from './keeper';
import type { ClusterLease } from './lease';

/** What a one-off job (a manual rollup, a backfill) does when an agent or console already holds the lease. */
export type WhenLeaseHeld = 'refuse' | 'run-without-token';

export interface ExclusiveWork<T> {
  /** `fencingToken` is undefined only when the lease was held elsewhere and `whenHeld` allowed running anyway. */
  (fencingToken: number | undefined, signal: AbortSignal): Promise<T>;
}

/**
 * Runs one job under the cluster lease: takes it, renews it while the job runs, aborts the job if the lease is
 * lost, and releases it afterwards. A job that must not race the scheduler refuses when someone else holds it.
 */
export async function runUnderLease<T>(
  lease: ClusterLease,
  log: ScopedLogger,
  whenHeld: WhenLeaseHeld,
  work: ExclusiveWork<T>,
  outerSignal?: AbortSignal,
): Promise<T> {
  const lost = new AbortController();
  const keeper = new LeaseKeeper(lease, {
    log,
    listener: {
      onAcquired: () => {},
      onLost: (_grant, reason) => lost.abort(new StrataError(ErrorCode.LeaseLost, `the cluster lease was lost (${reason}); the job stopped`)),
    },
  });
  await keeper.start();
  const grant = keeper.current();
  const signal = outerSignal ? AbortSignal.any([outerSignal, lost.signal]) : lost.signal;
  try {
    if (!grant) {
      await keeper.stop();
      const failure = keeper.lastFailure();
      if (failure) {
        // Not held by anyone: taking it failed (Redis or the control shard did not answer). Say so, not "held".
        if (whenHeld === 'refuse') throw failure;
        log.warn(`could not take the scheduler lease (${failure instanceof Error ? failure.message : String(failure)}); running without a fencing token, so watermarks may not move`);
        return await work(undefined, signal);
      }
      const status = await lease.status();
      const holder = status.holder ? `${status.holder.host} (pid ${status.holder.pid}, since ${status.holder.acquiredAt})` : 'another scheduler';
      if (whenHeld === 'refuse') {
        throw new StrataError(ErrorCode.LeaseUnavailable, `the scheduler lease is held by ${holder}, which runs due windows itself; stop it or run a range with --from/--to`);
      }
      log.warn(`the scheduler lease is held by ${holder}; running without a fencing token, so watermarks may not move`);
      return await work(undefined, signal);
    }
    return await work(grant.holder.token, signal);
  } finally {
    await keeper.stop();
  }
}
