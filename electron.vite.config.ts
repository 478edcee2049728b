import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'vite';
import { CONTENT_SECURITY_POLICY, DEV_SERVER_CONTENT_SECURITY_POLICY } from './src/main/electron/csp';

/** The dev server needs inline scripts and a websocket for hot reload; production builds keep the strict policy. */
function devServerCsp(): Plugin {
  return {
    name: 'strata:dev-server-csp',
    apply: 'serve',
    transformIndexHtml: (html) => html.replace(CONTENT_SECURITY_POLICY, DEV_SERVER_CONTENT_SECURITY_POLICY),
  };
}

/**
 * Writes out/main/cli-build.json after every other file, holding the time the build started: in a checkout,
 * bin/strata.js runs the bundle only while nothing under src/ is newer than that, so an edit made during a build
 * still runs from source.
 */
function cliBuildStamp(): Plugin {
  let startedAt = 0;
  return {
    name: 'strata:cli-build-stamp',
    apply: 'build',
    buildStart() {
      startedAt = Date.now();
    },
    writeBundle(options) {
      if (options.dir) writeFileSync(join(options.dir, 'cli-build.json'), `${JSON.stringify({ startedAt })}\n`);
    },
  };
}

export default defineConfig({
  main: {
    build: {
      // The CLI and agent are built beside the Electron main process: installed, they run as plain JavaScript,
      // which starts in a third less memory than compiling TypeScript on the fly (see bench/backfill).
      // Each command is its own chunk, imported when it runs, so `strata --help` loads little more than commander.
      lib: { entry: { index: 'src/main/index.ts', cli: 'src/cli/main.ts' } },
    },
    plugins: [cliBuildStamp()],
  },
  preload: {
    build: {
      lib: { entry: 'src/preload/index.ts' },
      rolldownOptions: {
        // Sandboxed preloads are loaded with require(), so they must be CommonJS whatever package.json says.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    plugins: [react(), devServerCsp()],
    build: {
      rolldownOptions: { input: 'src/renderer/index.html' },
    },
  },
});
