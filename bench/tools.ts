import { accessSync, constants, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { ShardHandle } from '../src/main/cluster/connections';
import { EnvSecretResolver } from '../src/main/secrets';

const fmt = (value: number) => Math.round(value).toLocaleString('en-US');

/** How a benchmark refuses to run: its name before the message on stderr, and exit code 2 (not a measured failure). */
export function benchArguments(bench: string): {
  fail: (message: string) => never;
  wholeNumber: (name: string, text: string, min: number, max: number) => number;
} {
  const fail = (message: string): never => {
    process.stderr.write(`bench ${bench}: ${message}\n`);
    process.exit(2);
  };
  const wholeNumber = (name: string, text: string, min: number, max: number): number => {
    const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) fail(`--${name} must be a whole number from ${fmt(min)} to ${fmt(max)}, got '${text}'`);
    return value;
  };
  return { fail, wholeNumber };
}

export function onPath(program: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Peak resident memory of this process as the kernel counts it (VmHWM), in bytes. */
export function highWaterMark(): number {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('VmHWM:'));
  return Number(line?.match(/(\d+)/)?.[1] ?? 0) * 1024;
}

/**
 * A [client] option file with one shard's user and password, private to this user (0600), for the baseline tools
 * (mariadb-dump's --defaults-extra-file, pt-archiver's DSN F=): the password never appears on a command line.
 */
export async function clientOptionFile(dir: string, shard: ShardHandle): Promise<string> {
  const password = await new EnvSecretResolver().resolve(shard.config, shard.label);
  const quote = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const lines = ['[client]', `user=${quote(shard.config.user)}`, ...(password === undefined ? [] : [`password=${quote(password)}`])];
  const path = join(dir, `shard${shard.index}.cnf`);
  await writeFile(path, `${lines.join('\n')}\n`, { mode: 0o600 });
  return path;
}
