import { useQueryClient } from '@tanstack/react-query';
import type { PruneProgress, PruneRequest, PruneRunRequest, RetentionSetRequest } from '../../../../shared/retention';
import { useChannelMutation, useChannelQuery, useEventState } from '../../api/hooks';

const POLICY_KEY = ['retention:get'] as const;
const RUNS_KEY = ['retention:runs'] as const;
/** Edits made elsewhere (the CLI, another console) show up within this; a draft being edited is never overwritten. */
export const POLICY_POLL_MS = 15_000;
/** Scheduled prunes run on whichever host holds the lease; their runs appear here within this. */
export const RUNS_POLL_MS = 10_000;
export const RECENT_RUNS = 20;

export function useRetentionPolicy() {
  return useChannelQuery(POLICY_KEY, (api) => api.retention.get(), { refetchInterval: POLICY_POLL_MS });
}

/** Stores a change through the main process, which refuses a retention shorter than the rollup lag and changes nothing. */
export function useSetRetention() {
  const queryClient = useQueryClient();
  return useChannelMutation((api, request: RetentionSetRequest) => api.retention.set(request), {
    onSuccess: (entry) => queryClient.setQueryData(POLICY_KEY, entry),
    invalidates: POLICY_KEY,
  });
}

export function useMaintenanceRuns() {
  return useChannelQuery(RUNS_KEY, (api) => api.retention.runs({ limit: RECENT_RUNS }), { refetchInterval: RUNS_POLL_MS });
}

export function usePruneDryRun() {
  return useChannelMutation((api, request: PruneRequest) => api.retention.plan(request));
}

export function usePruneNow() {
  return useChannelMutation((api, request: PruneRunRequest) => api.retention.prune(request), { invalidates: RUNS_KEY });
}

const noTables = (): ReadonlyMap<string, PruneProgress> => new Map();
const latestOf = (latest: ReadonlyMap<string, PruneProgress>, progress: PruneProgress) => new Map(latest).set(progressKey(progress.shard, progress.table), progress);

/** The latest progress of each shard and table of the prune in flight, and how many events arrived. */
export function usePruneProgress() {
  const { state, received, reset } = useEventState((api, listener: (progress: PruneProgress) => void) => api.retention.onProgress(listener), latestOf, noTables);
  return { latest: state, received, reset };
}

export const progressKey = (shard: number, table: string) => `${shard}:${table}`;
