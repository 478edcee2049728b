#!/usr/bin/env -S node --max-old-space-size=160 --max-semi-space-size=4
// The heap flags keep a long backfill or agent near its live memory (about 30 MiB of heap) instead of letting
// garbage pile up to 280 MiB resident: measured by bench/backfill, which runs the CLI with these same flags.
// An installed copy (no src/) runs the bundle `npm run build` writes to out/main. A source checkout runs that bundle
// too while it is fresh, built after the last change under src/, since compiling TypeScript through tsx at start
// costs more than the command itself (bench/startup); otherwise it runs the sources, so `npx strata` works straight
// after `npm ci` and never runs a stale build.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = join(root, 'src', 'cli', 'main.ts');

const installed = !existsSync(source);
if (installed || bundleIsFresh()) {
  if (process.env.STRATA_DEBUG && !installed) process.stderr.write('strata: running the bundle in out/main, built after the last change to the sources\n');
  await import('../out/main/cli.js');
} else {
  if (process.env.STRATA_DEBUG) process.stderr.write('strata: running the sources through tsx (out/main is older than them; `npm run build` to start faster)\n');
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}

/**
 * Whether the build recorded in out/main/cli-build.json started after the build config and every file and folder
 * the CLI is bundled from last changed (a folder's time moves when a file in it is added or removed). The renderer
 * and preload are not part of the CLI bundle.
 */
function bundleIsFresh() {
  try {
    const { startedAt } = JSON.parse(readFileSync(join(root, 'out', 'main', 'cli-build.json'), 'utf8'));
    const inputs = [join(root, 'electron.vite.config.ts')];
    for (const folder of ['cli', 'main', 'shared'].map((name) => join(root, 'src', name))) {
      inputs.push(folder, ...readdirSync(folder, { recursive: true }).map((entry) => join(folder, entry)));
    }
    return typeof startedAt === 'number' && inputs.every((path) => statSync(path).mtimeMs < startedAt);
  } catch {
    return false;
  }
}
