import { app, BrowserWindow, ipcMain, Notification, safeStorage } from 'electron';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { channels } from '../shared/contract';
import { createHandlers, forwardEvents, type Handlers } from './ipc/handlers';
import { createLogger } from './log';
import { loadProfile } from './profile-loader';
import { createServices, type StrataServices } from './services';
import { registerIpcHandlers, type IpcRegistration } from './electron/ipc';
import { notifyFiringAlerts } from './electron/alert-notifications';
import { APP_INDEX_URL } from './electron/app-protocol';
import type { AppLocation } from './electron/policy';
import { SafeStorageSecretResolver } from './electron/safe-storage-secrets';
import { createMainWindow, hardenSession, loadConsole, registerAppScheme, serveConsoleFiles } from './electron/window';

/** `--profile FILE` or `--profile=FILE` on the app's command line, else STRATA_PROFILE. */
function profilePathFromArguments(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  for (const [index, argument] of argv.entries()) {
    if (argument === '--profile') return argv[index + 1];
    if (argument.startsWith('--profile=')) return argument.slice('--profile='.length);
  }
  return env.STRATA_PROFILE || undefined;
}

/** Without a usable profile the window still opens, and every call answers with the reason. */
function handlersThatFail(error: unknown): Handlers {
  const refuse = () => Promise.reject(error);
  return Object.fromEntries(Object.keys(channels).map((channel) => [channel, refuse])) as unknown as Handlers;
}

const here = fileURLToPath(new URL('.', import.meta.url));
const location: AppLocation = process.env.ELECTRON_RENDERER_URL
  ? { kind: 'dev-server', url: process.env.ELECTRON_RENDERER_URL }
  : { kind: 'app-protocol', indexUrl: APP_INDEX_URL };

const logger = createLogger({ logId: 'desktop', file: join(app.getPath('logs'), 'strata-desktop.log'), consoleLevel: 'warn' });
const log = logger.scope('app');
const windows = new Set<BrowserWindow>();
let services: StrataServices | undefined;
let registration: IpcRegistration | undefined;
let stopAlertNotifications: (() => void) | undefined;

async function start(): Promise<void> {
  hardenSession(location);
  if (location.kind === 'app-protocol') serveConsoleFiles(join(here, '../renderer'), log);
  const secrets = new SafeStorageSecretResolver(safeStorage, join(app.getPath('userData'), 'strata-passwords.json'));
  let handlers: Handlers;
  try {
    const profile = await loadProfile(profilePathFromArguments(process.argv, process.env));
    services = createServices({ profile, secrets, logger });
    handlers = createHandlers(services);
    stopAlertNotifications = notifyFiringAlerts(services.alerts, { isSupported: () => Notification.isSupported(), show: (notice) => new Notification(notice).show() }, logger.scope('notifications'));
    // Every open console competes for the cluster lease like an agent does; only the holder runs jobs.
    const started = services;
    services.scheduler
      .start()
      .then(() => started.monitor.start())
      .catch((error: unknown) => log.error('the scheduler could not start', error));
  } catch (error) {
    log.error('cannot load the cluster profile', error);
    handlers = handlersThatFail(error);
  }
  registration = registerIpcHandlers({
    ipcMain,
    handlers,
    app: location,
    isKnownWindow: (contents) => [...windows].some((window) => window.webContents === contents),
    knownWindows: () => [...windows].map((window) => window.webContents),
    forwardEvents: services ? ((ready) => (deliver) => forwardEvents(ready, deliver, logger.scope('events')))(services) : undefined,
    log: logger.scope('ipc'),
  });
  openWindow();
}

function openWindow(): void {
  const window = createMainWindow({ app: location, preloadPath: join(here, '../preload/index.cjs'), log });
  windows.add(window);
  window.on('closed', () => windows.delete(window));
  loadConsole(window, location).catch((error: unknown) => log.error('cannot load the console page', error));
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.enableSandbox();
  registerAppScheme();
  // No page may embed a <webview>: it would escape every restriction set on the window.
  app.on('web-contents-created', (_event, contents) => contents.on('will-attach-webview', (event) => event.preventDefault()));
  app.on('second-instance', () => {
    const [window] = windows;
    if (window?.isMinimized()) window.restore();
    window?.focus();
  });
  app.on('activate', () => {
    if (windows.size === 0 && registration) openWindow();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  let disposed = false;
  app.on('will-quit', (event) => {
    if (disposed) return;
    // Close the pools and Redis before exiting, so shards do not see aborted connections.
    event.preventDefault();
    disposed = true;
    registration?.dispose();
    stopAlertNotifications?.();
    (services?.dispose() ?? Promise.resolve())
      .catch((error: unknown) => log.error('shutdown failed', error))
      .finally(() => app.quit());
  });

  app.whenReady().then(start, (error: unknown) => {
    log.error('the app failed to start', error);
    app.exit(1);
  });
}
