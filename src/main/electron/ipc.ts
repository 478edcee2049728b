import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { channels } from '../../shared/contract';
import { ErrorCode } from '../../shared/errors';
import type { Result } from '../../shared/result';
import { dispatch, type DeliverEvent, type Handlers } from '../ipc/handlers';
import type { ScopedLogger } from '../log';
import { isAppUrl, isTrustedSender, type AppLocation } from './policy';

/** The part of Electron's ipcMain this module uses, so a test can register against a stand-in. */
export type IpcMainHandlers = Pick<IpcMain, 'handle' | 'removeHandler'>;

export interface IpcRegistrationOptions {
  ipcMain: IpcMainHandlers;
  handlers: Handlers;
  app: AppLocation;
  /** True when the webContents belongs to a window this app created. */
  isKnownWindow(contents: WebContents): boolean;
  /** The windows this app created, the only ones events are sent to. */
  knownWindows(): WebContents[];
  /** Connects the services' events to a transport (forwardEvents); absent when there are no services. */
  forwardEvents?: (deliver: DeliverEvent) => () => void;
  log: ScopedLogger;
}

/** Handles for every channel in the contract; dispose() removes them again. */
export interface IpcRegistration {
  dispose(): void;
}

/**
 * The only place that calls ipcMain.handle: one handler per contract channel, each checking the sender
 * before the payload reaches `dispatch`, which validates it against the channel's schema.
 */
export function registerIpcHandlers(options: IpcRegistrationOptions): IpcRegistration {
  const { ipcMain, handlers, app, isKnownWindow, log } = options;
  const names = Object.keys(channels);
  for (const channel of names) {
    ipcMain.handle(channel, async (event: IpcMainInvokeEvent, payload: unknown): Promise<Result<unknown>> => {
      const frame = event.senderFrame;
      const sender = { frameUrl: frame?.url, isMainFrame: frame?.parent === null, fromKnownWindow: isKnownWindow(event.sender) };
      if (!isTrustedSender(sender, app)) {
        log.warn(`refused ${channel} from an untrusted sender`, sender.frameUrl ?? '(frame gone)');
        return { ok: false, code: ErrorCode.ForbiddenSender, message: `${channel} may only be called by the Strata console window` };
      }
      return dispatch(handlers, channel, payload, log);
    });
  }
  // Events go only to the console windows' main frames showing the console itself; forwardEvents has validated each payload already.
  const stopEvents = options.forwardEvents?.((event, payload) => {
    for (const contents of options.knownWindows()) {
      if (!contents.isDestroyed() && isAppUrl(contents.getURL(), app)) contents.send(event, payload);
    }
  });
  return {
    dispose() {
      stopEvents?.();
      for (const channel of names) ipcMain.removeHandler(channel);
    },
  };
}
