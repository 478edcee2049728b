import { useChannelQuery } from '../../api/hooks';

export const CLUSTER_STATUS_POLL_MS = 2000;

/** Live cluster status: polled every 2 s; while a poll fails, the last good answer stays on screen. */
export function useClusterStatus() {
  return useChannelQuery(['cluster:status'], (api) => api.cluster.status(), { refetchInterval: CLUSTER_STATUS_POLL_MS });
}
