import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding Strata's package.json, found by walking up from this module: the same answer whether the CLI
 * runs from its TypeScript sources or from the bundle in out/main, whose depth differs.
 */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'strata') return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find Strata's package.json above ${from}`);
  }
}
