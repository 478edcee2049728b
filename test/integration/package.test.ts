import { listPackage } from '@electron/asar';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

/**
 * Electron's binary cannot be downloaded here, so the desktop app is packaged against a stub Electron folder:
 * that still shows what the shipped app.asar would contain, and whether the main process could load.
 */
describe('desktop package (electron-builder --dir)', () => {
  let work: string;
  let files: string[];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'strata-package-'));
    const stub = join(work, 'electron-stub');
    await mkdir(join(stub, 'resources'), { recursive: true });
    await writeFile(join(stub, 'electron'), '#!/bin/sh\n');
    await chmod(join(stub, 'electron'), 0o755);
    await writeFile(join(stub, 'LICENSE'), 'stub');
    const electronVersion = JSON.parse(await readFile(join(root, 'node_modules/electron/package.json'), 'utf8')).version as string;
    await writeFile(join(stub, 'version'), electronVersion);
    const output = join(work, 'dist');
    await run(
      process.execPath,
      [join(root, 'node_modules/electron-builder/cli.js'), '--dir', '--publish', 'never', `-c.electronDist=${stub}`, `-c.directories.output=${output}`],
      { cwd: root, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' } },
    );
    files = listPackage(join(output, 'linux-unpacked/resources/app.asar'), { isPack: false });
  }, 180_000);

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('ships the built main process, sandboxed preload and renderer, and no sources, tests or source maps', () => {
    expect(files).toEqual(expect.arrayContaining(['/out/main/index.js', '/out/preload/index.cjs', '/out/renderer/index.html', '/package.json']));
    expect(files.filter((file) => /^\/(src|test|bench)\//.test(file))).toEqual([]);
    expect(files.filter((file) => file.endsWith('.map'))).toEqual([]);
  });

  it('ships every package the main bundle (and the chunks it shares with the CLI) imports at run time', async () => {
    const chunks = (await readdir(join(root, 'out/main'))).filter((name) => name.endsWith('.js'));
    expect(chunks).toEqual(expect.arrayContaining(['index.js', 'cli.js']));
    const bundle = (await Promise.all(chunks.map((name) => readFile(join(root, 'out/main', name), 'utf8')))).join('\n');
    const imported = new Set([...bundle.matchAll(/from "([^".][^"]*)"/g)].map((match) => match[1]!.split('/').slice(0, match[1]!.startsWith('@') ? 2 : 1).join('/')));
    imported.delete('electron');
    const external = [...imported].filter((name) => !name.startsWith('node:'));
    expect(external).toEqual(expect.arrayContaining(['mysql2', 'ioredis']));
    for (const name of external) expect(files).toContain(`/node_modules/${name}/package.json`);
  });
});
