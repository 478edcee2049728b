import { listPackage } from '@electron/asar';
import { FuseV1Options, getCurrentFuseWire } from '@electron/fuses';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

/** The sentinel @electron/fuses looks for in an Electron binary; the fuse wire follows it. */
const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
/** A fuse's byte in the wire: ASCII '1' when on, '0' when off. */
const FUSE_ON = 0x31;
const FUSE_OFF = 0x30;

/**
 * A stand-in Electron executable carrying the fuse wire of a real one as Electron ships it (version 1, then the
 * count, then one byte per fuse: run-as-node, node options, inspect arguments and file:// privileges on, the rest
 * off), so the packager's fuse step has something to flip.
 */
function stubElectronBinary(): Buffer {
  const shipped = ['1', '0', '1', '1', '0', '0', '0', '1'];
  return Buffer.concat([
    Buffer.from('#!/bin/sh\n# stub Electron\n', 'latin1'),
    Buffer.from(FUSE_SENTINEL, 'latin1'),
    Buffer.from([1, shipped.length]),
    Buffer.from(shipped.join(''), 'latin1'),
    Buffer.from('\n', 'latin1'),
  ]);
}

/**
 * Electron's binary cannot be downloaded here, so the desktop app is packaged against a stub Electron folder:
 * that still shows what the shipped app.asar would contain, and whether the main process could load.
 */
describe('desktop package (electron-builder --dir)', () => {
  let work: string;
  let files: string[];
  let unpacked: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'strata-package-'));
    const stub = join(work, 'electron-stub');
    await mkdir(join(stub, 'resources'), { recursive: true });
    await writeFile(join(stub, 'electron'), stubElectronBinary());
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
    unpacked = join(output, 'linux-unpacked');
    files = listPackage(join(unpacked, 'resources/app.asar'), { isPack: false });
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

  it('flips the fuses in the packaged binary: no run-as-node, NODE_OPTIONS or inspector, code only from an integrity-checked asar', async () => {
    const wire = await getCurrentFuseWire(join(unpacked, 'strata'));
    const fuse = (option: FuseV1Options) => wire[option];
    expect(fuse(FuseV1Options.RunAsNode)).toBe(FUSE_OFF);
    expect(fuse(FuseV1Options.EnableNodeOptionsEnvironmentVariable)).toBe(FUSE_OFF);
    expect(fuse(FuseV1Options.EnableNodeCliInspectArguments)).toBe(FUSE_OFF);
    expect(fuse(FuseV1Options.GrantFileProtocolExtraPrivileges)).toBe(FUSE_OFF);
    expect(fuse(FuseV1Options.EnableEmbeddedAsarIntegrityValidation)).toBe(FUSE_ON);
    expect(fuse(FuseV1Options.OnlyLoadAppFromAsar)).toBe(FUSE_ON);
    expect(fuse(FuseV1Options.EnableCookieEncryption)).toBe(FUSE_ON);
    // Not set by Strata: left as Electron ships it.
    expect(fuse(FuseV1Options.LoadBrowserProcessSpecificV8Snapshot)).toBe(FUSE_OFF);
  });
});

/** Width and height of a PNG, from its header. */
function pngSize(data: Buffer): [number, number] {
  expect(data.subarray(1, 4).toString('latin1')).toBe('PNG');
  return [data.readUInt32BE(16), data.readUInt32BE(20)];
}

/**
 * The icons electron-builder takes for each platform's installer (AppImage/deb, dmg, nsis) cannot be seen in a
 * `--dir` package on Linux, so this checks what it reads: the files the config names, in the sizes it needs.
 */
describe('application icon (electron-builder.yml, resources/)', () => {
  it('names an icon for every platform, and each file exists', async () => {
    const config = await readFile(join(root, 'electron-builder.yml'), 'utf8');
    expect(config).toMatch(/^directories:\n(?: {2}.*\n)*? {2}buildResources: resources$/m);
    const icons = [...config.matchAll(/^( *)icon: (\S+)$/gm)].map((match) => match[2]);
    expect(icons.sort()).toEqual(['resources/icon.icns', 'resources/icon.ico', 'resources/icon.png', 'resources/icons']);
  });

  it('has a 1024 px PNG, and a PNG per size for Linux named by its size', async () => {
    expect(pngSize(await readFile(join(root, 'resources/icon.png')))).toEqual([1024, 1024]);
    const names = await readdir(join(root, 'resources/icons'));
    expect(names).toEqual(expect.arrayContaining(['16x16.png', '32x32.png', '48x48.png', '128x128.png', '256x256.png', '512x512.png']));
    for (const name of names) {
      const side = Number(/^(\d+)x\1\.png$/.exec(name)?.[1]);
      expect(pngSize(await readFile(join(root, 'resources/icons', name)))).toEqual([side, side]);
    }
  });

  it('has a Windows icon with a 256 px image and a macOS icon with 512 and 1024 px images', async () => {
    const ico = await readFile(join(root, 'resources/icon.ico'));
    expect(ico.readUInt16LE(2)).toBe(1);
    const icoSizes = Array.from({ length: ico.readUInt16LE(4) }, (_, index) => {
      const entry = 6 + 16 * index;
      return pngSize(ico.subarray(ico.readUInt32LE(entry + 12), ico.readUInt32LE(entry + 12) + ico.readUInt32LE(entry + 8)))[0];
    });
    expect(icoSizes).toEqual(expect.arrayContaining([16, 32, 48, 256]));

    const icns = await readFile(join(root, 'resources/icon.icns'));
    expect(icns.subarray(0, 4).toString('latin1')).toBe('icns');
    expect(icns.readUInt32BE(4)).toBe(icns.length);
    const elements = new Map<string, number>();
    for (let offset = 8; offset < icns.length; offset += icns.readUInt32BE(offset + 4)) {
      elements.set(icns.subarray(offset, offset + 4).toString('latin1'), pngSize(icns.subarray(offset + 8, offset + icns.readUInt32BE(offset + 4)))[0]);
    }
    expect(elements.get('ic09')).toBe(512);
    expect(elements.get('ic10')).toBe(1024);
  });
});
