import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backupManifestSchema, type BackupPlan, type BackupSetRecord } from '../../src/shared/backup';
import { roomNeeded } from '../../src/main/backup/planner';
import { silentLogger } from '../../src/main/log';
import { isProcessAlive } from '../../src/main/sandbox/processes';
import { SandboxManager } from '../../src/main/sandbox/sandbox';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';
import { faultRandom } from '../support/faults/random';
import { realSleep } from '../support/time';

const STRATA_BIN = fileURLToPath(new URL('../../bin/strata.js', import.meta.url));
const HOUR = 3_600_000;
const H = Math.floor(Date.now() / HOUR) * HOUR;
const WAIT_MS = 60_000;

interface RunningCli {
  child: ChildProcess;
  pid: number;
  output(): { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [STRATA_BIN, ...args], { env: { ...process.env, STRATA_LOG_FILE: 'off', STRATA_PROFILE: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, pid: child.pid!, output: () => ({ stdout, stderr }), exited };
}

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, intervalMs = 5): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await realSleep(intervalMs);
  }
}

/** The dump clients (mariadb-dump or mysqldump) running under a process, with the defaults file each was given. */
function dumpChildren(parent: number): Array<{ pid: number; defaultsFile: string }> {
  const parents = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      names.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close));
      parents.set(Number(entry), Number(stat.slice(close + 2).split(' ')[1]));
    } catch {
      // It ended while we looked.
    }
  }
  const descends = (pid: number): boolean => {
    for (let at = parents.get(pid); at !== undefined && at > 1; at = parents.get(at)) if (at === parent) return true;
    return false;
  };
  const found: Array<{ pid: number; defaultsFile: string }> = [];
  for (const [pid, name] of names) {
    if (!/^(mariadb-dump|mysqldump)$/.test(name) || !descends(pid)) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      found.push({ pid, defaultsFile: argv[1]!.slice('--defaults-extra-file='.length) });
    } catch {
      // It ended while we looked.
    }
  }
  return found;
}

/**
 * A `mariadb-dump` on PATH that holds still where a test needs the fault to land: before the dump starts
 * (`start`), or mid-dump once its first 64 KiB went out (`mid`: the real client then blocks on the full pipe). Each
 * client that reaches that point leaves a marker; `open()` lets every one go on. `--version` passes straight through.
 */
function gatedDumpClient(dir: string, mode: 'start' | 'mid') {
  const bin = join(dir, 'gated-bin');
  const gate = join(dir, 'gate');
  mkdirSync(bin, { recursive: true });
  const arrive = `touch '${dir}/arrived-'$$`;
  // Never longer than a minute, so a test that failed before open() leaves no process behind.
  const waitGate = `for _ in $(seq 3000); do [ -e '${gate}' ] && break; sleep 0.02; done`;
  const body = mode === 'start' ? `${arrive}; ${waitGate}; exec /usr/bin/mariadb-dump "$@"` : `/usr/bin/mariadb-dump "$@" | { head -c 65536; ${arrive}; ${waitGate}; cat; }`;
  writeFileSync(join(bin, 'mariadb-dump'), `#!/bin/bash\nset -o pipefail\nif [ "$1" = "--version" ]; then exec /usr/bin/mariadb-dump --version; fi\n${body}\n`, { mode: 0o755 });
  symlinkSync('/usr/bin/zstd', join(bin, 'zstd'));
  return {
    env: { PATH: `${bin}:/usr/bin:/bin` },
    arrived: () => readdirSync(dir).filter((name) => name.startsWith('arrived-')).length,
    open: () => writeFileSync(gate, ''),
  };
}

/** Waits until `count` dump clients run under the CLI and freezes them (SIGSTOP), so the dump holds still. */
async function freezeDumps(cli: RunningCli, count: number): Promise<Array<{ pid: number; defaultsFile: string }>> {
  const dumps = await until(`${count} dump clients under strata pid ${cli.pid}`, () => {
    const found = dumpChildren(cli.pid);
    if (found.length < count && cli.child.exitCode !== null) throw new Error(`strata ended (exit ${cli.child.exitCode}) before its dumps were seen: ${JSON.stringify(cli.output())}`);
    return found.length >= count ? found : undefined;
  }, 2);
  for (const dump of dumps) process.kill(dump.pid, 'SIGSTOP');
  return dumps;
}


const leftovers = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.partial'));

describe('backup runs that meet a fault, on real shards', () => {
  let cluster: TestCluster;
  let work: string;
  const sandbox = new SandboxManager(silentLogger.scope('sandbox'));
  const mounted: string[] = [];

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
    work = await mkdtemp(join(tmpdir(), 'strata-backup-faults-'));
    // Enough raw rows (with --include-raw) that a dump runs for a while, so a fault can land inside it.
    await cluster.services.generator.run({ from: new Date(H - 12 * HOUR).toISOString(), to: new Date(H).toISOString(), sites: 40, views: 120_000, seed: 10 });
    for (const level of ['hourly', 'daily', 'monthly'] as const) expect((await cluster.services.rollup.runDue(level, { trigger: 'manual' })).ok).toBe(true);
  }, 180_000);

  afterAll(async () => {
    for (const dir of mounted) execFileSync('umount', [dir]);
    await cluster?.down();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const record = (id: string): Promise<BackupSetRecord> => cluster.services.backup.get(id);
  const profile = () => ['--profile', cluster.profilePath];

  it('fails the part with 11003 naming the destination and the bytes needed when the destination fills up mid-dump; no partial file, the catalog says failed, exit 1', async () => {
    const dest = join(work, 'small-tmpfs');
    mkdirSync(dest);
    // Just over what the room check asks for this dump (its own dry run says), so the dump is allowed to start.
    const dryRun = await runCli(['backup', 'run', '--shards', '0', '--tables', 'monthly', '--dry-run', '--json', ...profile()]);
    const needed = roomNeeded((JSON.parse(dryRun.stdout) as BackupPlan).estimatedFileBytes);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${Math.ceil((needed + 256 * 1024) / 4096) * 4096}`, 'tmpfs', dest]);
    mounted.push(dest);
    const gated = gatedDumpClient(await mkdtemp(join(work, 'gate-fill-')), 'start');
    const run = spawnCli(['backup', 'run', '--shards', '0', '--tables', 'monthly', '--dest', dest, '--json', ...profile()], gated.env);
    // The room check passed and the client waits at its start: now another writer takes the rest of the share.
    await until('the dump client at its gate', () => gated.arrived() >= 1);
    try {
      for (let index = 0; ; index += 1) writeFileSync(join(dest, `other-writer-${index}`), Buffer.alloc(16 * 1024, 1));
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    gated.open();
    expect(await run.exited).toBe(1);
    const { stdout } = run.output();
    const set = JSON.parse(stdout) as BackupSetRecord;
    expect(set.state).toBe('failed');
    const part = set.parts[0]!;
    expect(part.outcome).toBe('failed');
    expect(part.error?.code).toBe(11003);
    expect(part.error?.message).toMatch(new RegExp(`the destination ${dest} is full: \\d+ bytes were written .*needs about \\d+ bytes`));
    expect((await record(set.id)).state).toBe('failed');
    expect((await record(set.id)).parts[0]!.error?.code).toBe(11003);
    expect(readdirSync(dest).filter((name) => !name.startsWith('other-writer-'))).toEqual([]);
  }, 120_000);

  it('Ctrl-C of a running backup stops every dump, removes the partial files and the defaults folders, the catalog says cancelled, exit 130', async () => {
    const dest = join(work, 'sigint');
    const run = spawnCli(['backup', 'run', '--include-raw', '--dest', dest, '--json', ...profile()]);
    const dumps = await freezeDumps(run, 2);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    const set = JSON.parse(run.output().stdout) as BackupSetRecord;
    expect(set.state).toBe('cancelled');
    const stored = await record(set.id);
    expect(stored.state).toBe('cancelled');
    expect(stored.parts.map((part) => part.outcome)).toEqual(['cancelled', 'cancelled']);
    for (const dump of dumps) {
      expect(isProcessAlive(dump.pid), `dump pid ${dump.pid}`).toBe(false);
      expect(existsSync(dirname(dump.defaultsFile)), dump.defaultsFile).toBe(false);
    }
    expect(readdirSync(dest)).toEqual([]);
  }, 120_000);

  it('strata backup cancel ID from another process stops every dump of the set: the cancel exits 0, the run 130, no file is left', async () => {
    const dest = join(work, 'remote-cancel');
    const run = spawnCli(['backup', 'run', '--include-raw', '--dest', dest, ...profile()]);
    const dumps = await freezeDumps(run, 2);
    const [row] = await cluster.services.connections.query<Array<{ id: string }>>(0, 'SELECT id FROM strata_backup_sets WHERE pid = ? ORDER BY started_at DESC LIMIT 1', [run.pid]);
    const cancel = await runCli(['backup', 'cancel', row!.id, '--json', ...profile()]);
    expect(cancel.stderr).toBe('');
    expect(cancel.code).toBe(0);
    expect((JSON.parse(cancel.stdout) as BackupSetRecord).state).toBe('cancelled');
    expect(await run.exited).toBe(130);
    expect(run.output().stdout).toMatch(new RegExp(`backup set ${row!.id}: cancelled`));
    const stored = await record(row!.id);
    expect(stored.parts.map((part) => [part.outcome, part.error?.message])).toEqual([
      ['cancelled', 'cancelled; the partial file was removed'],
      ['cancelled', 'cancelled; the partial file was removed'],
    ]);
    for (const dump of dumps) {
      expect(isProcessAlive(dump.pid)).toBe(false);
      expect(existsSync(dirname(dump.defaultsFile))).toBe(false);
    }
    expect(readdirSync(dest)).toEqual([]);
  }, 120_000);

  it('a shard SIGKILLed mid-dump fails its part with the reason and leaves no partial file; the other shard completes; partial, exit 1', async () => {
    const rng = faultRandom('backup: a shard killed mid-dump');
    const delay = rng.int(0, 40);
    const dest = join(work, 'killed-shard');
    const gated = gatedDumpClient(await mkdtemp(join(work, 'gate-kill-')), 'mid');
    const run = spawnCli(['backup', 'run', '--include-raw', '--dest', dest, '--json', ...profile()], gated.env);
    // Both clients hold still mid-dump (64 KiB out, blocked on a full pipe); the kill lands at the seeded delay after.
    await until('both dump clients mid-dump', () => gated.arrived() >= 2);
    await realSleep(delay);
    const pid = await sandbox.signalServer(cluster.dir, 1, 'SIGKILL');
    expect(pid).toBeDefined();
    await until('shard1 to be gone', () => !isProcessAlive(pid!));
    gated.open();
    try {
      expect(await run.exited, `seed ${rng.seed}, killed ${delay} ms into the dump; ${run.output().stderr}`).toBe(1);
      const set = JSON.parse(run.output().stdout) as BackupSetRecord;
      expect(set.state).toBe('partial');
      expect(set.parts.map((part) => part.outcome)).toEqual(['ok', 'failed']);
      expect(set.parts[1]!.error?.code).toBe(11004);
      // The client says "Lost connection …" or, killed between packets, exits 2 silently; then the part names where it stopped.
      expect(set.parts[1]!.error?.message).toMatch(/mariadb-dump failed: (.*(Lost connection|Error 2013|gone away)|exit code 2 without a message, after \d+ bytes)/i);
      expect((await record(set.id)).state).toBe('partial');
      expect(readdirSync(dest).sort()).toEqual([`${set.id}-shard0.sql.zst`, `${set.id}.manifest.json`]);
      expect(leftovers(dest)).toEqual([]);
    } finally {
      await cluster.startShard(1);
    }
  }, 120_000);

  it('without zstd the files are gzip, the manifest says gzip and the sha256 matches', async () => {
    const dest = join(work, 'gzip');
    const bin = join(work, 'bin-without-zstd');
    mkdirSync(bin);
    symlinkSync('/usr/bin/mariadb-dump', join(bin, 'mariadb-dump'));
    const run = await runCli(['backup', 'run', '--tables', 'hourly', '--dest', dest, '--json', ...profile()], { PATH: bin });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const set = JSON.parse(run.stdout) as BackupSetRecord;
    expect(set.compression).toBe('gzip');
    const manifest = backupManifestSchema.parse(JSON.parse(await readFile(set.manifestPath, 'utf8')));
    expect(manifest.compression).toBe('gzip');
    expect(manifest.compressor).toMatch(/gzip/);
    for (const part of manifest.parts) {
      expect(part.file).toMatch(/\.sql\.gz$/);
      const bytes = readFileSync(join(dest, part.file));
      expect(bytes.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(part.sha256);
      const sql = gunzipSync(bytes).toString('utf8');
      expect(sql.length).toBe(part.dumpBytes);
      expect(sql).toMatch(/-- Dump completed/);
    }
  }, 120_000);
});
