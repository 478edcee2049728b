import type { BackupProgress, BackupRequest, BackupRestoreRequest, BackupRunRequest, BackupVerifyRequest } from '../../../../shared/backup';
import { useChannelMutation, useChannelQuery, useEventState } from '../../api/hooks';

const LIST_KEY = ['backup:list'] as const;
/** Sets started elsewhere (the agent's schedule, the CLI) and their verification show up within this. */
export const LIST_POLL_MS = 5000;
export const RECENT_SETS = 30;

export function useBackupList() {
  return useChannelQuery(LIST_KEY, (api) => api.backup.list({ limit: RECENT_SETS }), { refetchInterval: LIST_POLL_MS });
}

/** The backup's job in the stored schedules, for the schedule line (edited on the Schedules page). */
export function useBackupSchedule() {
  const query = useChannelQuery(['schedules:list'], (api) => api.schedules.list(), { refetchInterval: 15_000 });
  return { ...query, entry: query.data?.schedules.find((entry) => String(entry.job) === 'backup') };
}

/** The stored retention of backup sets; changed with `strata backup retention`, so it is re-read now and then. */
export function useBackupRetention() {
  return useChannelQuery(['backup:retention'], (api) => api.backup.retention(), { refetchInterval: 15_000 });
}

export function useBackupPlan() {
  return useChannelMutation((api, request: BackupRequest) => api.backup.plan(request));
}

export function useBackupRun() {
  return useChannelMutation((api, request: BackupRunRequest) => api.backup.run(request), { invalidates: LIST_KEY });
}

export function useBackupCancel() {
  return useChannelMutation((api, id: string) => api.backup.cancel({ id }), { invalidates: LIST_KEY });
}

export function useBackupVerify() {
  return useChannelMutation((api, request: BackupVerifyRequest) => api.backup.verify(request), { invalidates: LIST_KEY });
}

export function useBackupRestore() {
  return useChannelMutation((api, request: BackupRestoreRequest) => api.backup.restore(request), { invalidates: LIST_KEY });
}

/** The progress events of the sets this host runs: the latest per set and shard, and each set's end. */
export interface BackupEvents {
  shards: ReadonlyMap<string, BackupProgress>;
  finished: ReadonlyMap<string, BackupProgress>;
}

const noEvents = (): BackupEvents => ({ shards: new Map(), finished: new Map() });

function foldProgress(events: BackupEvents, progress: BackupProgress): BackupEvents {
  if (progress.kind === 'finished') return { ...events, finished: new Map(events.finished).set(progress.setId, progress) };
  if (progress.shard === undefined) return events;
  return { ...events, shards: new Map(events.shards).set(progressKey(progress.setId, progress.shard), progress) };
}

export function useBackupProgress() {
  const { state, received, reset } = useEventState((api, listener: (progress: BackupProgress) => void) => api.backup.onProgress(listener), foldProgress, noEvents);
  return { events: state, received, reset };
}

export const progressKey = (setId: string, shard: number) => `${setId}:${shard}`;

/** The latest progress of each part of the verifications this host runs, keyed by progressKey. */
export function useVerifyProgress() {
  const { state, reset } = useEventState(
    (api, listener: (progress: BackupProgress) => void) => api.backup.onVerifyProgress(listener),
    (parts: ReadonlyMap<string, BackupProgress>, progress) => (progress.shard === undefined ? parts : new Map(parts).set(progressKey(progress.setId, progress.shard), progress)),
    () => new Map<string, BackupProgress>(),
  );
  return { parts: state, reset };
}
