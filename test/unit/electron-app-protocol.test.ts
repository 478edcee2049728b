import { describe, expect, it } from 'vitest';
import { APP_INDEX_URL, planAppRequest, rendererFile } from '../../src/main/electron/app-protocol';

const root = '/opt/Strata/resources/app.asar/out/renderer';

describe('app://strata → the built renderer folder', () => {
  it('serves the console page, at / too, as HTML', () => {
    expect(planAppRequest(APP_INDEX_URL, 'GET', root)).toEqual({ status: 200, file: { path: `${root}/index.html`, contentType: 'text/html; charset=utf-8' } });
    expect(planAppRequest('app://strata/', 'GET', root)).toEqual(planAppRequest(APP_INDEX_URL, 'GET', root));
    expect(planAppRequest(`${APP_INDEX_URL}#/cluster-overview`, 'HEAD', root)).toMatchObject({ status: 200, file: { path: `${root}/index.html` } });
  });

  it('gives scripts, styles, images and fonts their MIME types (module scripts are refused without a JavaScript type)', () => {
    const type = (path: string) => rendererFile(root, path)?.contentType;
    expect(type('/assets/index-DRqUQN34.js')).toBe('text/javascript; charset=utf-8');
    expect(type('/assets/index-DVOe9nRR.css')).toBe('text/css; charset=utf-8');
    expect(type('/favicon.svg')).toBe('image/svg+xml');
    expect(type('/icon.PNG')).toBe('image/png');
    expect(type('/assets/inter.woff2')).toBe('font/woff2');
  });

  it('maps percent-encoded names onto the file they name', () => {
    expect(rendererFile(root, '/assets/a%20b.js')?.path).toBe(`${root}/assets/a b.js`);
  });

  it('refuses paths that leave the folder, also percent-encoded, and NUL bytes', () => {
    for (const path of ['/../main/index.js', '/assets/../../main/index.js', '/%2e%2e/main/index.js', '/..%2f..%2fpackage.json', '/assets/%2E%2E/%2E%2E/package.json', '/index.html%00.js', '/%E0%A4%A']) {
      expect(rendererFile(root, path), path).toBeUndefined();
    }
    // The URL parser already collapses dot segments at the origin's root, so a whole URL can only name files inside it.
    expect(planAppRequest('app://strata/%2e%2e/%2e%2e/main/index.js', 'GET', root)).toMatchObject({ status: 200, file: { path: `${root}/main/index.js` } });
  });

  it('refuses a sibling folder whose name starts like the root', () => {
    expect(rendererFile(root, '/../renderer-evil/x.js')).toBeUndefined();
  });

  it('refuses folders and types the renderer never contains', () => {
    expect(rendererFile(root, '/assets')).toBeUndefined();
    expect(rendererFile(root, '/assets/')).toBeUndefined();
    expect(rendererFile(root, '/secrets.txt')).toBeUndefined();
    expect(rendererFile(root, '/run.sh')).toBeUndefined();
  });

  it('answers only GET and HEAD, and only for the strata host of the app scheme', () => {
    expect(planAppRequest(APP_INDEX_URL, 'POST', root)).toMatchObject({ status: 405 });
    expect(planAppRequest('app://other/index.html', 'GET', root)).toMatchObject({ status: 404 });
    expect(planAppRequest('app://strata:8080/index.html', 'GET', root)).toMatchObject({ status: 404 });
    expect(planAppRequest('file:///opt/Strata/resources/app.asar/out/renderer/index.html', 'GET', root)).toMatchObject({ status: 404 });
  });
});
