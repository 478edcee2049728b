#!/usr/bin/env node
// Runs a TypeScript benchmark from bench/ through tsx, like bin/strata.js does for the CLI:
// `node bin/strata-bench.js generate [options]` runs bench/generate.ts with the options.
import { existsSync } from 'node:fs';
import { register } from 'tsx/esm/api';

const name = process.argv[2] ?? '';
const script = new URL(`../bench/${name}.ts`, import.meta.url);
if (!/^[a-z0-9-]+$/.test(name) || !existsSync(script)) {
  process.stderr.write(`strata-bench: no benchmark named '${name}' in bench/ (try: generate, backup)\n`);
  process.exit(2);
}
register();
process.argv.splice(2, 1);
await import(script.href);
