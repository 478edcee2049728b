import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useStrataApi } from '../../api/context';
import { unwrap } from '../../api/failure';

export const CLUSTER_STATUS_POLL_MS = 2000;

/** Live cluster status: polled every 2 s; while a poll fails, the last good answer stays on screen. */
export function useClusterStatus() {
  const api = useStrataApi();
  return useQuery({
    queryKey: ['cluster:status'],
    queryFn: async () => unwrap(await api.cluster.status()),
    refetchInterval: CLUSTER_STATUS_POLL_MS,
    retry: false,
  });
}

/** The current time, updated every `intervalMs`, for "checked 3 s ago" labels. */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
