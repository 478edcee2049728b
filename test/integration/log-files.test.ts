import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/main/log';

const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

describe('log files', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-logs-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a new log file is readable by its owner only, in a folder only its owner can enter', async () => {
    const file = join(dir, 'new', 'logs', 'strata-cli.log');
    createLogger({ logId: 'permissions-new', file, consoleLevel: false }).scope('test').info('first line');
    expect(await readFile(file, 'utf8')).toContain('first line');
    expect(await modeOf(file)).toBe(0o600);
    expect(await modeOf(join(dir, 'new', 'logs'))).toBe(0o700);
  });

  it('a log file an older version left world-readable is narrowed to its owner; an existing folder keeps its mode', async () => {
    const file = join(dir, 'strata-agent.log');
    await writeFile(file, 'old line\n', { mode: 0o644 });
    const folderMode = await modeOf(dir);
    createLogger({ logId: 'permissions-old', file, consoleLevel: false }).scope('test').warn('next line');
    expect(await readFile(file, 'utf8')).toMatch(/old line\n.*next line/s);
    expect(await modeOf(file)).toBe(0o600);
    expect(await modeOf(dir)).toBe(folderMode);
  });
});
