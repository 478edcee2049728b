/**
 * The window's security decisions as pure functions (no `electron` import), so they can be unit-tested:
 * which URLs count as the app itself, which links may open in the user's browser, which IPC senders to trust.
 */

/**
 * Where the console page is loaded from: the built renderer served on the app's own protocol (app://strata/index.html,
 * see app-protocol.ts), or the dev server during `electron-vite dev`.
 */
export type AppLocation = { kind: 'app-protocol'; indexUrl: string } | { kind: 'dev-server'; url: string };

/** Hosts whose https pages the console may open in the system browser (documentation links). */
export const EXTERNAL_LINK_HOSTS = ['mariadb.com', 'dev.mysql.com', 'redis.io'] as const;

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** True when `candidate` is the console page itself; query and fragment do not matter. */
export function isAppUrl(candidate: string, app: AppLocation): boolean {
  const url = parseUrl(candidate);
  if (!url) return false;
  if (app.kind === 'dev-server') return url.origin === new URL(app.url).origin;
  const index = new URL(app.indexUrl);
  return url.protocol === index.protocol && url.host === index.host && url.pathname === index.pathname && !url.username && !url.password;
}

/** True for https links to an allow-listed host or one of its subdomains; never for credentials in the URL. */
export function isAllowedExternalLink(candidate: string): boolean {
  const url = parseUrl(candidate);
  if (!url || url.protocol !== 'https:' || url.username || url.password) return false;
  return EXTERNAL_LINK_HOSTS.some((host) => url.hostname === host || url.hostname.endsWith(`.${host}`));
}

/** Writing to the clipboard (a "copy" button) is the only browser permission the console ever needs. */
export function isPermissionAllowed(permission: string): boolean {
  return permission === 'clipboard-sanitized-write';
}

/** What the IPC wrapper knows about the frame that sent a call. */
export interface SenderFacts {
  /** The sending frame's URL, or undefined when the frame is gone (navigated away or destroyed). */
  frameUrl: string | undefined;
  isMainFrame: boolean;
  /** The sender's webContents belongs to a window this app created. */
  fromKnownWindow: boolean;
}

/** Only the main frame of one of our windows, showing the console page, may call the main process. */
export function isTrustedSender(sender: SenderFacts, app: AppLocation): boolean {
  return sender.fromKnownWindow && sender.isMainFrame && sender.frameUrl !== undefined && isAppUrl(sender.frameUrl, app);
}
