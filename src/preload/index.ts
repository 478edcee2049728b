import { contextBridge, ipcRenderer } from 'electron';
import { createStrataApi, type Invoke } from '../shared/api';

// Only the task-shaped API crosses the bridge: the page can call the contract's channels and nothing else.
const invoke: Invoke = (channel, request) => ipcRenderer.invoke(channel, request);

contextBridge.exposeInMainWorld('strata', createStrataApi(invoke));
