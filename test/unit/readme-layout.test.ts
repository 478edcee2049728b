import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('### How the code is laid out'), readme.indexOf('Lint (`npm run lint`)'));

describe('README layout section', () => {
  it('lists exactly the folders of src/main', () => {
    const folders = readdirSync(join(root, 'src/main')).filter((name) => statSync(join(root, 'src/main', name)).isDirectory());
    const listed = [...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((match) => match[1]);
    expect(listed.sort()).toEqual(folders.sort());
  });

  it('names only modules that exist', () => {
    for (const [, path] of section.matchAll(/`(src\/main\/[\w/.-]+)`/g)) {
      expect(() => statSync(join(root, path!)), `${path} is named in the README but missing`).not.toThrow();
    }
  });
});
