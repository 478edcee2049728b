import type { BackfillService } from '../backfill/service';
import type { ReconcileService } from '../reconcile/service';
import type { RollupService } from '../rollup/service';
import { rewrittenByBackfill, rewrittenByReconcile, rewrittenByRollup } from './planner';
import type { CacheService } from './service';

/**
 * The composition root's hooks that delete the application's cached charts after history was rewritten. They wrap
 * the engines from outside, so rollups, backfills and reconciliations know nothing of the cache, and an
 * invalidation that fails (Redis down) is recorded without failing the run.
 */

/** Rollups whose runs, after they return, invalidate the windows they re-ran (those already rolled up before). */
export function invalidatingRollup(rollup: RollupService, cache: CacheService, shardCount: number): RollupService {
  const after = async <T extends Awaited<ReturnType<RollupService['runDue']>>>(report: T): Promise<T> => {
    await cache.afterRewrite({ kind: 'rollup', runId: report.runId }, rewrittenByRollup(report, shardCount));
    return report;
  };
  return {
    runDue: async (level, options) => after(await rollup.runDue(level, options)),
    runRange: async (level, from, to, options) => after(await rollup.runRange(level, from, to, options)),
    plan: (level, range, options) => rollup.plan(level, range, options),
    watermarks: () => rollup.watermarks(),
    runs: (query) => rollup.runs(query),
    runHistory: (query) => rollup.runHistory(query),
    dispose: () => rollup.dispose(),
  };
}

/** Reconciliations whose runs invalidate the windows they re-rolled for late rows. */
export function invalidatingReconcile(reconcile: ReconcileService, cache: CacheService, shardCount: number): ReconcileService {
  const after = async <T extends Awaited<ReturnType<ReconcileService['run']>>>(report: T): Promise<T> => {
    await cache.afterRewrite({ kind: 'reconcile', runId: report.runId }, rewrittenByReconcile(report, shardCount));
    return report;
  };
  return {
    plan: (request) => reconcile.plan(request),
    run: async (options) => after(await reconcile.run(options)),
    runManually: async (request, signal) => after(await reconcile.runManually(request, signal)),
    runs: (limit) => reconcile.runs(limit),
    dispose: () => reconcile.dispose(),
  };
}

/**
 * Backfills whose `finished` (which never rejects) settles only after the windows they rewrote were invalidated, so
 * a CLI backfill or a test sees the cache as it will stay.
 */
export function invalidatingBackfill(backfill: BackfillService, cache: CacheService, shardCount: number): BackfillService {
  const wrap = (run: Awaited<ReturnType<BackfillService['start']>>): Awaited<ReturnType<BackfillService['start']>> => ({
    record: run.record,
    finished: run.finished.then(async (outcome) => {
      const scopes = rewrittenByBackfill(outcome.windows, outcome.record.level, shardCount);
      await cache.afterRewrite({ kind: 'backfill', runId: String(outcome.record.id) }, scopes).catch(() => undefined);
      return outcome;
    }),
  });
  return {
    plan: (request) => backfill.plan(request),
    start: async (request) => wrap(await backfill.start(request)),
    resume: async (id) => wrap(await backfill.resume(id)),
    cancel: (id) => backfill.cancel(id),
    list: (limit) => backfill.list(limit),
    get: (id) => backfill.get(id),
    onProgress: (listener) => backfill.onProgress(listener),
    dispose: () => backfill.dispose(),
  };
}
