import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useState } from 'react';
import type { PruneProgress, PruneRequest, PruneRunRequest, RetentionSetRequest } from '../../../../shared/retention';
import { useStrataApi } from '../../api/context';
import { unwrap } from '../../api/failure';

const POLICY_KEY = ['retention:get'] as const;
const RUNS_KEY = ['retention:runs'] as const;
/** Edits made elsewhere (the CLI, another console) show up within this; a draft being edited is never overwritten. */
export const POLICY_POLL_MS = 15_000;
/** Scheduled prunes run on whichever host holds the lease; their runs appear here within this. */
export const RUNS_POLL_MS = 10_000;
export const RECENT_RUNS = 20;

export function useRetentionPolicy() {
  const api = useStrataApi();
  return useQuery({ queryKey: POLICY_KEY, queryFn: async () => unwrap(await api.retention.get()), refetchInterval: POLICY_POLL_MS, retry: false });
}

/** Stores a change through the main process, which refuses a retention shorter than the rollup lag and changes nothing. */
export function useSetRetention() {
  const api = useStrataApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (request: RetentionSetRequest) => unwrap(await api.retention.set(request)),
    onSuccess: (entry) => queryClient.setQueryData(POLICY_KEY, entry),
    onSettled: () => queryClient.invalidateQueries({ queryKey: POLICY_KEY }),
  });
}

export function useMaintenanceRuns() {
  const api = useStrataApi();
  return useQuery({ queryKey: RUNS_KEY, queryFn: async () => unwrap(await api.retention.runs({ limit: RECENT_RUNS })), refetchInterval: RUNS_POLL_MS, retry: false });
}

export function usePruneDryRun() {
  const api = useStrataApi();
  return useMutation({ mutationFn: async (request: PruneRequest) => unwrap(await api.retention.plan(request)) });
}

export function usePruneNow() {
  const api = useStrataApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (request: PruneRunRequest) => unwrap(await api.retention.prune(request)),
    onSettled: () => queryClient.invalidateQueries({ queryKey: RUNS_KEY }),
  });
}

/** The latest progress of each shard and table of the prune in flight, and how many events arrived. */
export function usePruneProgress() {
  const api = useStrataApi();
  const [state, setState] = useState<{ latest: ReadonlyMap<string, PruneProgress>; received: number }>({ latest: new Map(), received: 0 });
  useEffect(
    () =>
      api.retention.onProgress((progress) =>
        setState((previous) => ({ latest: new Map(previous.latest).set(progressKey(progress.shard, progress.table), progress), received: previous.received + 1 })),
      ),
    [api],
  );
  const reset = useCallback(() => setState({ latest: new Map(), received: 0 }), []);
  return { ...state, reset };
}

export const progressKey = (shard: number, table: string) => `${shard}:${table}`;
