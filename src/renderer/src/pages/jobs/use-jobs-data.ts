import { keepPreviousData, useQuery } from '@tanstack/react-query';
import type { RollupLevel } from '../../../../shared/rollup';
import { useStrataApi } from '../../api/context';
import { unwrap } from '../../api/failure';

export const JOBS_POLL_MS = 3000;
/** Enough history for a few days of hourly windows on a handful of shards, small enough to redraw every poll. */
export const RUN_HISTORY_LIMIT = 500;

/** The newest rollup windows (of one level, or all), newest first. */
export function useRuns(level: RollupLevel | undefined) {
  const api = useStrataApi();
  return useQuery({
    queryKey: ['rollup:runs', level ?? 'all'],
    queryFn: async () => unwrap(await api.rollup.runs({ limit: RUN_HISTORY_LIMIT, level })),
    refetchInterval: JOBS_POLL_MS,
    // Switching the level filter keeps the old rows up until the new ones arrive, instead of flashing a loader.
    placeholderData: keepPreviousData,
    retry: false,
  });
}

export function useWatermarks() {
  const api = useStrataApi();
  return useQuery({
    queryKey: ['rollup:watermarks'],
    queryFn: async () => unwrap(await api.rollup.watermarks()),
    refetchInterval: JOBS_POLL_MS,
    retry: false,
  });
}

export function useLeaseStatus() {
  const api = useStrataApi();
  return useQuery({
    queryKey: ['lease:status'],
    queryFn: async () => unwrap(await api.lease.status()),
    refetchInterval: JOBS_POLL_MS,
    retry: false,
  });
}
