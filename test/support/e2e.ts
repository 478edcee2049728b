import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { silentLogger } from '../../src/main/log';
import { startWebHost, type WebHost } from '../../src/main/webhost/server';
import { startTestCluster, type TestCluster, type TestClusterOptions } from './cluster';

const RENDERER_DIR = fileURLToPath(new URL('../../out/renderer', import.meta.url));
export const RESULTS_DIR = fileURLToPath(new URL('../../test-results', import.meta.url));
const CHROMIUM = '/usr/lib/chromium/chromium';
/** Without the networking flags Chromium keeps calling home, which floods a closed network. */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A deadline, not a speed target: pages poll every few seconds and a refused connection is reported at once. */
export const SHOWS_WITHIN_MS = 15_000;

/** A real cluster, the console served by the test web host, and one Chromium page on it. */
export interface ConsoleSession {
  cluster: TestCluster;
  host: WebHost;
  browser: BrowserContext;
  page: Page;
  /** Script errors and console errors (a CSP violation shows up here even when the page still looks fine). */
  pageErrors: string[];
  /** Opens a page of the console by its PAGES id (the first visit trades the URL's token for a cookie). */
  openPage(pageId: string): Promise<void>;
  /** A full-page screenshot in test-results/<name>.png. */
  screenshot(name: string): Promise<void>;
  /** Closes the browser, the web host and the cluster, in that order. */
  close(): Promise<void>;
}

export async function startConsoleSession(clusterOptions: TestClusterOptions = { shards: 2 }): Promise<ConsoleSession> {
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) throw new Error(`${RENDERER_DIR} is missing: run npm run build before the e2e tests`);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
  await mkdir(RESULTS_DIR, { recursive: true });
  const cluster = await startTestCluster(clusterOptions);
  let host: WebHost | undefined;
  let browserProfile: string | undefined;
  let browser: BrowserContext | undefined;
  const close = async () => {
    await browser?.close();
    await host?.close();
    await cluster.down();
    if (browserProfile) await rm(browserProfile, { recursive: true, force: true });
  };
  try {
    host = await startWebHost({ services: cluster.services, logger: silentLogger, rendererDir: RENDERER_DIR });
    browserProfile = await mkdtemp(join(tmpdir(), 'strata-e2e-chromium-'));
    browser = await chromium.launchPersistentContext(browserProfile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1440, height: 900 }, reducedMotion: 'reduce' });
  } catch (error) {
    await close();
    throw error;
  }
  const page = browser.pages()[0] ?? (await browser.newPage());
  const pageErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  const webHost = host;
  let signedIn = false;
  return {
    cluster,
    host: webHost,
    browser,
    page,
    pageErrors,
    async openPage(pageId) {
      if (!signedIn) {
        await page.goto(webHost.url);
        signedIn = true;
      }
      await page.goto(`http://127.0.0.1:${webHost.port}/#/${pageId}`);
      await page.getByTestId(`page-${pageId}`).waitFor({ timeout: SHOWS_WITHIN_MS });
    },
    screenshot: async (name) => {
      await page.screenshot({ path: join(RESULTS_DIR, `${name}.png`), fullPage: true });
    },
    close,
  };
}
