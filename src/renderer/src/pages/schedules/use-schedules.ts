import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { ScheduleSetRequest } from '../../../../shared/schedule';
import { useStrataApi } from '../../api/context';
import { unwrap } from '../../api/failure';

export const SCHEDULES_POLL_MS = 5000;
const SCHEDULES_KEY = ['schedules:list'] as const;

/** Every job's schedule and next runs, re-read every few seconds so edits made elsewhere (the CLI) show up. */
export function useSchedules() {
  const api = useStrataApi();
  return useQuery({
    queryKey: SCHEDULES_KEY,
    queryFn: async () => unwrap(await api.schedules.list()),
    refetchInterval: SCHEDULES_POLL_MS,
    retry: false,
  });
}

/** Stores a change through the main process (which validates the cron); the list is re-read afterwards. */
export function useSetSchedule() {
  const api = useStrataApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (request: ScheduleSetRequest) => unwrap(await api.schedules.set(request)),
    onSettled: () => queryClient.invalidateQueries({ queryKey: SCHEDULES_KEY }),
  });
}
