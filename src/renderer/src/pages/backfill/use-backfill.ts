import { useQueryClient } from '@tanstack/react-query';
import type { BackfillProgress, BackfillRequest } from '../../../../shared/backfill';
import { useChannelMutation, useChannelQuery, useEventState } from '../../api/hooks';

const BACKFILLS_KEY = ['backfill:list'] as const;
/** The list also shows backfills other hosts run (the CLI, an agent); their progress is not sent here. */
export const BACKFILL_LIST_POLL_MS = 5000;
export const RECENT_BACKFILLS = 20;

export function useBackfills() {
  return useChannelQuery(BACKFILLS_KEY, (api) => api.backfill.list({ limit: RECENT_BACKFILLS }), { refetchInterval: BACKFILL_LIST_POLL_MS });
}

export function usePlanBackfill() {
  return useChannelMutation((api, request: BackfillRequest) => api.backfill.plan(request));
}

/** Start, resume and cancel all answer with the backfill's record; the list is re-read after each. */
export function useBackfillActions() {
  return {
    start: useChannelMutation((api, request: BackfillRequest) => api.backfill.start(request), { invalidates: BACKFILLS_KEY }),
    resume: useChannelMutation((api, id: number) => api.backfill.resume({ id }), { invalidates: BACKFILLS_KEY }),
    cancel: useChannelMutation((api, id: number) => api.backfill.cancel({ id }), { invalidates: BACKFILLS_KEY }),
  };
}

const noBackfills = (): ReadonlyMap<number, BackfillProgress> => new Map();
/** The final event names no window; the one before it does, and the card shows it as the last window run. */
const latestOf = (latest: ReadonlyMap<number, BackfillProgress>, progress: BackfillProgress) =>
  new Map(latest).set(progress.backfillId, { ...progress, window: progress.window ?? latest.get(progress.backfillId)?.window });

/**
 * The latest progress event of every backfill this host runs, as the main process sends them, plus how many
 * arrived. A window finishing or a backfill ending also re-reads the list, so its row follows without waiting.
 */
export function useBackfillProgress(): { latest: ReadonlyMap<number, BackfillProgress>; received: number } {
  const queryClient = useQueryClient();
  const { state, received } = useEventState(
    (api, listener: (progress: BackfillProgress) => void) =>
      api.backfill.onProgress((progress) => {
        listener(progress);
        if (progress.kind !== 'window-started') void queryClient.invalidateQueries({ queryKey: BACKFILLS_KEY });
      }),
    latestOf,
    noBackfills,
    [queryClient],
  );
  return { latest: state, received };
}
