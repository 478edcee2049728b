import { keepPreviousData } from '@tanstack/react-query';
import type { RollupLevel } from '../../../../shared/rollup';
import { useChannelQuery } from '../../api/hooks';

export const JOBS_POLL_MS = 3000;
/** Enough history for a few days of hourly windows on a handful of shards, small enough to redraw every poll. */
export const RUN_HISTORY_LIMIT = 500;

/** The newest rollup windows (of one level, or all), newest first. */
export function useRuns(level: RollupLevel | undefined) {
  return useChannelQuery(['rollup:runs', level ?? 'all'], (api) => api.rollup.runs({ limit: RUN_HISTORY_LIMIT, level }), {
    refetchInterval: JOBS_POLL_MS,
    // Switching the level filter keeps the old rows up until the new ones arrive, instead of flashing a loader.
    placeholderData: keepPreviousData,
  });
}

export function useWatermarks() {
  return useChannelQuery(['rollup:watermarks'], (api) => api.rollup.watermarks(), { refetchInterval: JOBS_POLL_MS });
}

export function useLeaseStatus() {
  return useChannelQuery(['lease:status'], (api) => api.lease.status(), { refetchInterval: JOBS_POLL_MS });
}
