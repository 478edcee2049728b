import { keepPreviousData, useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import type { MonitorRange } from '../../../../shared/monitor';
import { useStrataApi } from '../../api/context';
import { useChannelQuery } from '../../api/hooks';

/** Probe cycles run every 30 s by default; polling a little faster shows a cycle soon after it ran. */
export const MONITOR_POLL_MS = 10_000;

/**
 * The latest probe cycle: polled, and replaced at once by every cycle the monitor reports, so the figures move
 * when a cycle runs rather than at the next poll. The series are read again after each cycle too.
 */
export function useMonitorSnapshot() {
  const api = useStrataApi();
  const queryClient = useQueryClient();
  useEffect(
    () =>
      api.monitor.onCycle((snapshot) => {
        queryClient.setQueryData(['monitor:snapshot'], snapshot);
        void queryClient.invalidateQueries({ queryKey: ['monitor:series'] });
      }),
    [api, queryClient],
  );
  return useChannelQuery(['monitor:snapshot'], (strata) => strata.monitor.snapshot(), { refetchInterval: MONITOR_POLL_MS });
}

export function useMonitorSeries(range: MonitorRange) {
  return useChannelQuery(['monitor:series', range], (api) => api.monitor.series({ range }), {
    refetchInterval: MONITOR_POLL_MS,
    // Switching the range keeps the old lines up until the new ones arrive, instead of flashing a loader.
    placeholderData: keepPreviousData,
  });
}

/** Read on demand: the advisor reads every shard's variables and indexes, which is not worth polling. */
export function useAdvice() {
  return useChannelQuery(['monitor:advise'], (api) => api.monitor.advise(), { staleTime: Infinity });
}

export function useAlertRules() {
  return useChannelQuery(['alerts:rules'], (api) => api.alerts.rules(), { refetchInterval: 30_000 });
}
