import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** The only address the test web host listens on: anything wider would expose the cluster to the network. */
export const LOOPBACK_ADDRESS = '127.0.0.1';

/** Header every API call must carry, so a page from another site cannot make one through the cookie alone. */
export const TOKEN_HEADER = 'x-strata-token';

/** Name of the `<meta>` through which the served page learns the token for that header. */
export const TOKEN_META_NAME = 'strata-web-token';

export function newAccessToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Cookies are shared by every port of a host, so the port is part of the name. */
export function cookieName(port: number): string {
  return `strata_token_${port}`;
}

export function sameToken(candidate: string | undefined, token: string): boolean {
  if (candidate === undefined) return false;
  const given = Buffer.from(candidate);
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Rejects DNS rebinding: a browser reaching us under some other name sends that name as Host. */
export function isExpectedHost(hostHeader: string | undefined, port: number): boolean {
  return hostHeader === `${LOOPBACK_ADDRESS}:${port}` || hostHeader === `localhost:${port}`;
}

/**
 * For requests authenticated by the cookie alone (the event stream): a browser names the page's origin in `Origin`
 * on cross-origin requests and says where a request comes from in `Sec-Fetch-Site`; both must be this console.
 * Same-origin GETs may omit `Origin`, so only a present, foreign one is refused.
 */
export function isExpectedOrigin(request: IncomingMessage, port: number): boolean {
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== `http://${LOOPBACK_ADDRESS}:${port}` && origin !== `http://localhost:${port}`) return false;
  const site = request.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin' || site === 'none';
}

export function readCookie(request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return undefined;
}

export function sessionCookie(port: number, token: string): string {
  return `${cookieName(port)}=${token}; Path=/; HttpOnly; SameSite=Strict`;
}
