import type { ScheduleSetRequest } from '../../../../shared/schedule';
import { useChannelMutation, useChannelQuery } from '../../api/hooks';

export const SCHEDULES_POLL_MS = 5000;
const SCHEDULES_KEY = ['schedules:list'] as const;

/** Every job's schedule and next runs, re-read every few seconds so edits made elsewhere (the CLI) show up. */
export function useSchedules() {
  return useChannelQuery(SCHEDULES_KEY, (api) => api.schedules.list(), { refetchInterval: SCHEDULES_POLL_MS });
}

/** Stores a change through the main process (which validates the cron); the list is re-read afterwards. */
export function useSetSchedule() {
  return useChannelMutation((api, request: ScheduleSetRequest) => api.schedules.set(request), { invalidates: SCHEDULES_KEY });
}
