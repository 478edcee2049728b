import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUILT_AT = new Date('2026-03-01T12:00:00Z');
const before = (seconds: number) => new Date(BUILT_AT.getTime() - seconds * 1000);
const after = (seconds: number) => new Date(BUILT_AT.getTime() + seconds * 1000);

/**
 * bin/strata.js in a copy of the checkout's shape whose "CLI" only says where it runs from: the sources through
 * tsx, or the bundle in out/main. File times are set explicitly, so no test waits for the clock.
 */
describe('which CLI bin/strata.js runs', () => {
  let checkout: string;

  async function file(path: string, text: string, time: Date = before(60)): Promise<void> {
    const full = join(checkout, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, text);
    await utimes(full, time, time);
  }

  async function touch(path: string, time: Date): Promise<void> {
    await utimes(join(checkout, path), time, time);
  }

  async function strata(): Promise<string> {
    const { stdout } = await run(process.execPath, [join(checkout, 'bin', 'strata.js')]);
    return stdout.trim();
  }

  beforeEach(async () => {
    checkout = await mkdtemp(join(tmpdir(), 'strata-entry-'));
    await mkdir(join(checkout, 'bin'));
    await copyFile(join(ROOT, 'bin', 'strata.js'), join(checkout, 'bin', 'strata.js'));
    await symlink(join(ROOT, 'node_modules'), join(checkout, 'node_modules'));
    await file('package.json', '{ "name": "strata", "type": "module" }');
    await file('electron.vite.config.ts', 'export default {};');
    await file('src/cli/main.ts', "const from: string = 'sources';\nconsole.log(from);\n");
    await file('src/main/services.ts', 'export {};');
    await file('src/shared/errors.ts', 'export {};');
    await file('src/renderer/main.tsx', 'export {};');
    await file('out/main/cli.js', "console.log('bundle');\n");
    await file('out/main/cli-build.json', JSON.stringify({ startedAt: BUILT_AT.getTime() }));
    for (const folder of ['src', 'src/cli', 'src/main', 'src/shared', 'src/renderer']) await touch(folder, before(60));
  });

  afterEach(async () => {
    await rm(checkout, { recursive: true, force: true });
  });

  it('runs the bundle when it was built after the last change to the sources', async () => {
    expect(await strata()).toBe('bundle');
  });

  it('runs the sources when a file was edited after the build started', async () => {
    await touch('src/main/services.ts', after(1));
    expect(await strata()).toBe('sources');
  });

  it('runs the sources when a file was added or removed after the build (its folder changed)', async () => {
    await touch('src/shared', after(1));
    expect(await strata()).toBe('sources');
  });

  it('runs the sources when the build config changed after the build', async () => {
    await touch('electron.vite.config.ts', after(1));
    expect(await strata()).toBe('sources');
  });

  it('still runs the bundle when only the renderer changed, which the CLI bundle does not contain', async () => {
    await touch('src/renderer/main.tsx', after(1));
    expect(await strata()).toBe('bundle');
  });

  it('runs the sources when there is no build stamp (never built, or a build in progress)', async () => {
    await rm(join(checkout, 'out/main/cli-build.json'));
    expect(await strata()).toBe('sources');
  });

  it('runs the bundle in an installed copy, which has no sources', async () => {
    await rm(join(checkout, 'src'), { recursive: true });
    expect(await strata()).toBe('bundle');
  });
});
