import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build, type Plugin } from 'vite';
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
 * Builds the CLI once the Electron main process is built, as its own bundle with its packages inside: resolving and
 * reading the few hundred files of mysql2, ioredis, zod and the rest from node_modules at every start cost `strata
 * status` more than its own code (bench/startup). Each command is a chunk under out/main/cli/, imported when it
 * runs, so `strata --help` loads little more than commander. Last it writes out/main/cli-build.json with the time
 * the build started: in a checkout, bin/strata.js runs this bundle only while nothing it is built from is newer.
 */
function cliBundle(): Plugin {
  let startedAt = 0;
  return {
    name: 'strata:cli-bundle',
    apply: 'build',
    buildStart() {
      startedAt = Date.now();
    },
    async closeBundle() {
      await build({
        configFile: false,
        logLevel: 'warn',
        ssr: { noExternal: true, target: 'node' },
        build: {
          ssr: true,
          outDir: 'out/main',
          emptyOutDir: false,
          target: 'node20',
          minify: false,
          rolldownOptions: {
            input: { cli: 'src/cli/main.ts' },
            external: ['electron'],
            output: {
              format: 'es',
              entryFileNames: '[name].js',
              chunkFileNames: 'cli/[name]-[hash].js',
            },
          },
        },
      });
      writeFileSync(join('out', 'main', 'cli-build.json'), `${JSON.stringify({ startedAt })}\n`);
    },
  };
}

export default defineConfig({
  main: {
    build: {
      lib: { entry: 'src/main/index.ts' },
    },
    // The CLI and agent are built after the Electron main process: installed, they run as plain JavaScript, which
    // starts in a third less memory than compiling TypeScript on the fly (see bench/backfill).
    plugins: [cliBundle()],
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
