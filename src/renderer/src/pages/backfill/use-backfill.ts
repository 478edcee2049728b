import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import type { BackfillProgress, BackfillRequest } from '../../../../shared/backfill';
import { useStrataApi } from '../../api/context';
import { unwrap } from '../../api/failure';

const BACKFILLS_KEY = ['backfill:list'] as const;
/** The list also shows backfills other hosts run (the CLI, an agent); their progress is not sent here. */
export const BACKFILL_LIST_POLL_MS = 5000;
export const RECENT_BACKFILLS = 20;

export function useBackfills() {
  const api = useStrataApi();
  return useQuery({
    queryKey: BACKFILLS_KEY,
    queryFn: async () => unwrap(await api.backfill.list({ limit: RECENT_BACKFILLS })),
    refetchInterval: BACKFILL_LIST_POLL_MS,
    retry: false,
  });
}

export function usePlanBackfill() {
  const api = useStrataApi();
  return useMutation({ mutationFn: async (request: BackfillRequest) => unwrap(await api.backfill.plan(request)) });
}

/** Start, resume and cancel all answer with the backfill's record; the list is re-read after each. */
export function useBackfillActions() {
  const api = useStrataApi();
  const queryClient = useQueryClient();
  const refresh = () => queryClient.invalidateQueries({ queryKey: BACKFILLS_KEY });
  return {
    start: useMutation({ mutationFn: async (request: BackfillRequest) => unwrap(await api.backfill.start(request)), onSettled: refresh }),
    resume: useMutation({ mutationFn: async (id: number) => unwrap(await api.backfill.resume({ id })), onSettled: refresh }),
    cancel: useMutation({ mutationFn: async (id: number) => unwrap(await api.backfill.cancel({ id })), onSettled: refresh }),
  };
}

/**
 * The latest progress event of every backfill this host runs, as the main process sends them, plus how many
 * arrived. A window finishing or a backfill ending also re-reads the list, so its row follows without waiting.
 */
export function useBackfillProgress(): { latest: ReadonlyMap<number, BackfillProgress>; received: number } {
  const api = useStrataApi();
  const queryClient = useQueryClient();
  const [state, setState] = useState<{ latest: ReadonlyMap<number, BackfillProgress>; received: number }>({ latest: new Map(), received: 0 });
  useEffect(
    () =>
      api.backfill.onProgress((progress) => {
        setState((previous) => ({ latest: new Map(previous.latest).set(progress.backfillId, progress), received: previous.received + 1 }));
        if (progress.kind !== 'window-started') void queryClient.invalidateQueries({ queryKey: BACKFILLS_KEY });
      }),
    [api, queryClient],
  );
  return state;
}
