import { describe, expect, it } from 'vitest';
import { APP_INDEX_URL } from '../../src/main/electron/app-protocol';
import { isAllowedExternalLink, isAppUrl, isPermissionAllowed, isTrustedSender, type AppLocation } from '../../src/main/electron/policy';

const built: AppLocation = { kind: 'app-protocol', indexUrl: APP_INDEX_URL };
const devServer: AppLocation = { kind: 'dev-server', url: 'http://localhost:5173/' };
const trustedFrame = { frameUrl: `${built.indexUrl}#/cluster-overview`, isMainFrame: true, fromKnownWindow: true };

describe('which pages count as the console', () => {
  it('accepts the built index.html with any fragment or query', () => {
    expect(isAppUrl(`${built.indexUrl}#/cluster-overview`, built)).toBe(true);
    expect(isAppUrl(`${built.indexUrl}?x=1`, built)).toBe(true);
  });

  it('is served from app://strata, not from file://', () => {
    expect(built.indexUrl).toBe('app://strata/index.html');
    expect(isAppUrl('file:///opt/Strata/resources/app.asar/out/renderer/index.html', built)).toBe(false);
  });

  it('refuses local files, other pages and hosts of the app scheme, and remote pages', () => {
    expect(isAppUrl('file:///etc/passwd', built)).toBe(false);
    expect(isAppUrl('app://strata/other.html', built)).toBe(false);
    expect(isAppUrl('app://strata/assets/index.js', built)).toBe(false);
    expect(isAppUrl('app://evil/index.html', built)).toBe(false);
    expect(isAppUrl('app://strata:8080/index.html', built)).toBe(false);
    expect(isAppUrl('app://user:pw@strata/index.html', built)).toBe(false);
    expect(isAppUrl('https://strata/index.html', built)).toBe(false);
    expect(isAppUrl('https://example.com/', built)).toBe(false);
    expect(isAppUrl('not a url', built)).toBe(false);
  });

  it('accepts only the dev server origin during development', () => {
    expect(isAppUrl('http://localhost:5173/src/main.tsx', devServer)).toBe(true);
    expect(isAppUrl('http://localhost:5174/', devServer)).toBe(false);
    expect(isAppUrl('http://127.0.0.1:5173/', devServer)).toBe(false);
  });
});

describe('which links open in the system browser', () => {
  it('opens https documentation links on allow-listed hosts', () => {
    expect(isAllowedExternalLink('https://mariadb.com/kb/en/partitioning-overview/')).toBe(true);
    expect(isAllowedExternalLink('https://dev.mysql.com/doc/refman/8.0/en/')).toBe(true);
  });

  it('refuses plain http, other schemes, look-alike hosts and embedded credentials', () => {
    expect(isAllowedExternalLink('http://mariadb.com/')).toBe(false);
    expect(isAllowedExternalLink('file:///etc/passwd')).toBe(false);
    expect(isAllowedExternalLink('javascript:alert(1)')).toBe(false);
    expect(isAllowedExternalLink('https://mariadb.com.evil.example/')).toBe(false);
    expect(isAllowedExternalLink('https://evilmariadb.com/')).toBe(false);
    expect(isAllowedExternalLink('https://user:pw@mariadb.com/')).toBe(false);
  });
});

describe('which IPC senders are trusted', () => {
  it('trusts the main frame of a known window showing the console', () => {
    expect(isTrustedSender(trustedFrame, built)).toBe(true);
  });

  it('refuses iframes, unknown windows, frames that are gone and frames showing another page', () => {
    expect(isTrustedSender({ ...trustedFrame, isMainFrame: false }, built)).toBe(false);
    expect(isTrustedSender({ ...trustedFrame, fromKnownWindow: false }, built)).toBe(false);
    expect(isTrustedSender({ ...trustedFrame, frameUrl: undefined }, built)).toBe(false);
    expect(isTrustedSender({ ...trustedFrame, frameUrl: 'https://example.com/' }, built)).toBe(false);
    expect(isTrustedSender({ ...trustedFrame, frameUrl: 'file:///opt/Strata/resources/app.asar/out/renderer/index.html' }, built)).toBe(false);
    expect(isTrustedSender({ ...trustedFrame, frameUrl: 'app://other/index.html' }, built)).toBe(false);
  });
});

describe('which browser permissions the console gets', () => {
  it('may copy to the clipboard and nothing else', () => {
    expect(isPermissionAllowed('clipboard-sanitized-write')).toBe(true);
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen']) {
      expect(isPermissionAllowed(permission)).toBe(false);
    }
  });
});
