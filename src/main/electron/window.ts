import { BrowserWindow, protocol, session, shell, type Session } from 'electron';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { ScopedLogger } from '../log';
import { APP_SCHEME, planAppRequest } from './app-protocol';
import { CONTENT_SECURITY_POLICY, DEV_SERVER_CONTENT_SECURITY_POLICY } from './csp';
import { isAllowedExternalLink, isAppUrl, isPermissionAllowed, type AppLocation } from './policy';

export interface MainWindowOptions {
  app: AppLocation;
  preloadPath: string;
  log: ScopedLogger;
}

/**
 * Session-wide defaults, applied once before any window opens: the CSP header on every response,
 * and no permission (camera, notifications, ...) is granted to page content beyond copying to the clipboard.
 */
export function hardenSession(app: AppLocation, target: Session = session.defaultSession): void {
  const policy = app.kind === 'dev-server' ? DEV_SERVER_CONTENT_SECURITY_POLICY : CONTENT_SECURITY_POLICY;
  target.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [policy] } });
  });
  target.setPermissionRequestHandler((_contents, permission, callback) => callback(isPermissionAllowed(permission)));
  target.setPermissionCheckHandler((_contents, permission) => isPermissionAllowed(permission));
}

/**
 * Must run before the app is ready: app:// becomes a standard scheme (real origin, relative URLs resolve) and a
 * secure one (treated like https, so the page is a secure context), instead of the console sharing file://'s origin.
 */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, codeCache: true } }]);
}

/** Serves the built renderer folder on app://strata/, read-only; paths leaving the folder are answered 404. */
export function serveConsoleFiles(rendererDir: string, log: ScopedLogger, target: Session = session.defaultSession): void {
  const root = resolve(rendererDir);
  const headers = { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, 'X-Content-Type-Options': 'nosniff' };
  target.protocol.handle(APP_SCHEME, async (request) => {
    const plan = planAppRequest(request.url, request.method, root);
    if (plan.status !== 200) {
      log.warn(`refused ${request.method} ${request.url}: ${plan.reason}`);
      return new Response(null, { status: plan.status, headers });
    }
    let body: Buffer;
    try {
      body = await readFile(plan.file.path);
    } catch {
      return new Response(null, { status: 404, headers });
    }
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers: { ...headers, 'Content-Type': plan.file.contentType } });
  });
}

/** The console window with Electron's secure defaults spelled out, so a later default change cannot loosen them. */
export function createMainWindow(options: MainWindowOptions): BrowserWindow {
  const { app, preloadPath, log } = options;
  const window = new BrowserWindow({
    width: 1440,
    height: 900,
    minWidth: 1024,
    minHeight: 640,
    show: false,
    title: 'Strata',
    backgroundColor: '#101113',
    webPreferences: {
      preload: preloadPath,
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });

  const guard = (event: { preventDefault(): void; url: string }) => {
    if (isAppUrl(event.url, app)) return;
    event.preventDefault();
    log.warn('blocked navigation away from the console', event.url);
  };
  window.webContents.on('will-navigate', guard);
  window.webContents.on('will-redirect', guard);
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternalLink(url)) {
      shell.openExternal(url).catch((error: unknown) => log.warn('could not open an external link', url, error));
    } else {
      log.warn('blocked a new window', url);
    }
    return { action: 'deny' };
  });
  window.once('ready-to-show', () => window.show());
  return window;
}

/** Loads the console page from wherever `app` says it lives. */
export async function loadConsole(window: BrowserWindow, app: AppLocation): Promise<void> {
  await window.loadURL(app.kind === 'dev-server' ? app.url : app.indexUrl);
}
