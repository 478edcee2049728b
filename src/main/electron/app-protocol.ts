import { extname, join, normalize, sep } from 'node:path';

/**
 * The desktop console is served from `app://strata/…`, a standard and secure origin of its own, instead of
 * `file://`: a file:// page shares its origin with every other local file, and file:// gets no response headers.
 * This module is pure (no `electron` import), so the URL → file mapping is unit-tested; the web host shares it.
 */
export const APP_SCHEME = 'app';
export const APP_HOST = 'strata';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_INDEX_URL = `${APP_ORIGIN}/index.html`;

/** The only file types the built renderer contains; anything else is not served. */
export const RENDERER_CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

export interface RendererFile {
  /** Absolute path inside the renderer folder. */
  path: string;
  contentType: string;
}

/**
 * The file under `root` (an absolute, resolved folder) for a URL path, or undefined when none may be served:
 * a path that leaves the folder (also when percent-encoded), a NUL byte, a folder, or a type the renderer never has.
 */
export function rendererFile(root: string, urlPath: string): RendererFile | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath === '/' ? '/index.html' : urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const path = normalize(join(root, decoded));
  if (!path.startsWith(root + sep)) return undefined;
  const contentType = RENDERER_CONTENT_TYPES[extname(path).toLowerCase()];
  return contentType ? { path, contentType } : undefined;
}

/** What the app:// handler answers for one request. */
export type AppRequestPlan = { status: 200; file: RendererFile } | { status: 404 | 405; reason: string };

/** Maps a request to `app://strata/…` onto the renderer folder; other hosts and methods are refused. */
export function planAppRequest(requestUrl: string, method: string, root: string): AppRequestPlan {
  if (method !== 'GET' && method !== 'HEAD') return { status: 405, reason: `${method} is not served by ${APP_ORIGIN}` };
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return { status: 404, reason: 'not a URL' };
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return { status: 404, reason: `${url.origin} is not the console` };
  const file = rendererFile(root, url.pathname);
  return file ? { status: 200, file } : { status: 404, reason: `no such file: ${url.pathname}` };
}
