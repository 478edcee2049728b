#!/usr/bin/env -S node --max-old-space-size=160 --max-semi-space-size=4
// The heap flags keep a long backfill or agent near its live memory (about 30 MiB of heap) instead of letting
// garbage pile up to 280 MiB resident: measured by bench/backfill, which runs the CLI with these same flags.
// In a source checkout the CLI runs its TypeScript through tsx, so `npx strata` works straight after `npm ci` and
// never runs a stale build; an installed copy without src/ runs the bundle `npm run build` writes to out/main.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(fileURLToPath(source))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../out/main/cli.js');
}
