import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { createStrataApi, type Invoke, type Subscribe } from '../shared/api';
import { isEventName } from '../shared/contract';

// Only the task-shaped API crosses the bridge: the page can call the contract's channels and nothing else.
const invoke: Invoke = (channel, request) => ipcRenderer.invoke(channel, request);

// Events too: only the contract's event names, and the listener never sees the IpcRendererEvent (it holds `sender`).
const subscribe: Subscribe = (event, listener) => {
  if (!isEventName(event)) throw new TypeError(`unknown event ${String(event)}`);
  const forward = (_event: IpcRendererEvent, payload: unknown) => listener(payload as Parameters<typeof listener>[0]);
  ipcRenderer.on(event, forward);
  return () => {
    ipcRenderer.removeListener(event, forward);
  };
};

contextBridge.exposeInMainWorld('strata', createStrataApi(invoke, subscribe));
