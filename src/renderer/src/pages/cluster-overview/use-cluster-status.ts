import { useQuery } from '@tanstack/react-query';
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
