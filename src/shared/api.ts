import type { ChannelName, ChannelRequest, ChannelResponse } from './contract';
import type { Result } from './result';

/** How a host carries one call: Electron's ipcRenderer.invoke in the preload, fetch in the test web host. */
export type Invoke = <C extends ChannelName>(channel: C, request: ChannelRequest<C>) => Promise<Result<ChannelResponse<C>>>;

/**
 * Stops an event subscription. Events from the main process are exposed as `onSomething(listener): Unsubscribe`
 * (for example `backup.onProgress(listener)`), never as a raw channel the page could listen on itself.
 */
export type Unsubscribe = () => void;

/** How a host would deliver events: ipcRenderer.on/removeListener in the preload. No event channels exist yet. */
export type Subscribe = <T>(event: string, listener: (payload: T) => void) => Unsubscribe;

/** The task-shaped API the renderer sees as `window.strata`; it never sees channels or ipcRenderer. */
export interface StrataApi {
  cluster: {
    status(): Promise<Result<ChannelResponse<'cluster:status'>>>;
  };
  schema: {
    /** Compares every shard with the schema this build expects; drift and unreachable shards are in the report. */
    check(): Promise<Result<ChannelResponse<'schema:check'>>>;
  };
  schedules: {
    /** Every job's cron, whether it is enabled, its next three runs and who last changed it. */
    list(): Promise<Result<ChannelResponse<'schedules:list'>>>;
    /** Changes a job's cron and/or enabled flag; an invalid cron expression is refused and nothing changes. */
    set(request: ChannelRequest<'schedules:set'>): Promise<Result<ChannelResponse<'schedules:set'>>>;
  };
  rollup: {
    /** The latest rollup windows run on any shard, newest first (level, window, outcome, rows, host, trigger). */
    runs(request: ChannelRequest<'rollup:runs'>): Promise<Result<ChannelResponse<'rollup:runs'>>>;
    /** Every shard's watermark of every level. */
    watermarks(): Promise<Result<ChannelResponse<'rollup:watermarks'>>>;
  };
  lease: {
    /** Who holds the cluster's scheduler lease, with which fencing token. */
    status(): Promise<Result<ChannelResponse<'lease:status'>>>;
  };
}

export function createStrataApi(invoke: Invoke): StrataApi {
  return {
    cluster: {
      status: () => invoke('cluster:status', {}),
    },
    schema: {
      check: () => invoke('schema:check', {}),
    },
    schedules: {
      list: () => invoke('schedules:list', {}),
      set: (request) => invoke('schedules:set', request),
    },
    rollup: {
      runs: (request) => invoke('rollup:runs', request),
      watermarks: () => invoke('rollup:watermarks', {}),
    },
    lease: {
      status: () => invoke('lease:status', {}),
    },
  };
}
