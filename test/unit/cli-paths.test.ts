import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/cli/paths';

const ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

describe('finding the installed package', () => {
  it('finds the same root from the sources and from the bundle in out/main and its command chunks, whose depths differ', () => {
    expect(packageRoot(join(ROOT, 'src', 'cli', 'commands', 'console.ts'))).toBe(ROOT);
    expect(packageRoot(join(ROOT, 'out', 'main', 'cli.js'))).toBe(ROOT);
    expect(packageRoot(join(ROOT, 'out', 'main', 'cli', 'console-D8r_t4V.js'))).toBe(ROOT);
  });

  it('says so when there is no Strata package above', () => {
    expect(() => packageRoot('/tmp/nowhere/file.js')).toThrow(/cannot find Strata's package.json above \/tmp\/nowhere\/file.js/);
  });
});
