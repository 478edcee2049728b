import { keepPreviousData, useQueryClient } from '@tanstack/react-query';
import type { CacheInvalidateRequest } from '../../../../shared/cache';
import type { MonitorRange } from '../../../../shared/monitor';
import { useChannelMutation, useChannelQuery } from '../../api/hooks';

/** Keys expire within minutes (5 min for the stats and 1-day charts): polling this often keeps TTLs honest. */
export const CACHE_POLL_MS = 10_000;
export const KEYS_LIMIT = 200;
export const LOG_LIMIT = 20;

const STATS_KEY = ['cache:stats'] as const;
const KEYS_KEY = ['cache:keys'] as const;
const LOG_KEY = ['cache:invalidations'] as const;

export function useCacheStats() {
  return useChannelQuery(STATS_KEY, (api) => api.cache.stats(), { refetchInterval: CACHE_POLL_MS });
}

export function useCacheKeys(siteId: number | undefined) {
  return useChannelQuery([...KEYS_KEY, siteId ?? 'all'], (api) => api.cache.keys({ siteId, limit: KEYS_LIMIT }), { refetchInterval: CACHE_POLL_MS, placeholderData: keepPreviousData });
}

export function useInvalidationLog() {
  return useChannelQuery(LOG_KEY, (api) => api.cache.invalidations({ limit: LOG_LIMIT }), { refetchInterval: CACHE_POLL_MS });
}

/** The probe cycles' Redis hit ratio over the range: the monitor already samples it, so the page reads its series. */
export function useHitRatioSeries(range: MonitorRange) {
  return useChannelQuery(['monitor:series', range, 'redis.hit_ratio'], (api) => api.monitor.series({ range, metrics: ['redis.hit_ratio'] }), {
    refetchInterval: CACHE_POLL_MS,
    placeholderData: keepPreviousData,
  });
}

/** The count a confirmation shows: the same request as a dry run, nothing deleted. */
export function useInvalidationDryRun() {
  return useChannelMutation((api, request: CacheInvalidateRequest) => api.cache.invalidate({ ...request, dryRun: true }));
}

/** Deletes the keys; the figures, the keys and the log are read again afterwards, whatever the answer. */
export function useInvalidate() {
  const queryClient = useQueryClient();
  return useChannelMutation((api, request: CacheInvalidateRequest) => api.cache.invalidate({ ...request, dryRun: false }), {
    onSettled: () => Promise.all([STATS_KEY, KEYS_KEY, LOG_KEY].map((queryKey) => queryClient.invalidateQueries({ queryKey }))),
  });
}
