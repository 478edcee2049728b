/**
 * The console's Content-Security-Policy, sent as a header by the Electron shell (on every app:// response) and the
 * test web host, and repeated in src/renderer/index.html so the page carries it however it is opened. Scripts only from the app itself;
 * styles may be inline because Mantine writes its CSS variables and style props inline. No frame-ancestors:
 * a meta tag cannot carry it, so the web host sends X-Frame-Options instead and the two copies stay identical.
 * This module imports nothing, so the web host and the build config can share it.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join('; ');

/** `electron-vite dev` only: the React refresh preamble is an inline script and HMR talks over a websocket. */
export const DEV_SERVER_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
  "connect-src 'self'",
  "connect-src 'self' ws:",
);
