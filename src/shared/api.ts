import type { ChannelName, ChannelRequest, ChannelResponse } from './contract';
import type { Result } from './result';

/** How a host carries one call: Electron's ipcRenderer.invoke in the preload, fetch in the test web host. */
export type Invoke = <C extends ChannelName>(channel: C, request: ChannelRequest<C>) => Promise<Result<ChannelResponse<C>>>;

/** The task-shaped API the renderer sees as `window.strata`; it never sees channels or ipcRenderer. */
export interface StrataApi {
  cluster: {
    status(): Promise<Result<ChannelResponse<'cluster:status'>>>;
  };
}

export function createStrataApi(invoke: Invoke): StrataApi {
  return {
    cluster: {
      status: () => invoke('cluster:status', {}),
    },
  };
}
