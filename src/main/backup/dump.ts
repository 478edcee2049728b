import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, unlink, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { BackupCompression, DumpClient } from '../../shared/backup';
import { ErrorCode, StrataError } from '../../shared/errors';
import { DumpScanner, type DumpScan } from './dump-scanner';
import { cleanChildEnv, dumpCommand } from './planner';

/**
 * Runs one shard's dump: the client's stdout passes the row counter, then the compressor (a `zstd -c -3` child, or
 * node's gzip), then a sha256 tap into `<file>.partial`, renamed to the file once everything succeeded; nothing
 * uncompressed touches the disk. The password lives only in a 0600 defaults file inside a 0700 folder from
 * mkdtemp, deleted as soon as the client has connected and in any case when the dump ends.
 */

export interface DumpJob {
  client: DumpClient;
  /** The `[client]` option group with the password (see defaultsFileText). */
  defaultsText: string;
  options: readonly string[];
  compression: BackupCompression;
  /** The zstd binary when compression is zstd. */
  zstdPath?: string;
  /** Final path of the file; `<path>.partial` until it is complete. */
  path: string;
  dest: string;
  /** Tables whose tuples the scanner keeps (strata_watermarks). */
  captureTables: ReadonlySet<string>;
  signal: AbortSignal;
  onData?: (progress: { dumpBytes: number; bytes: number; scan: DumpScan }) => void;
  /** Called with the dump child's pid once it runs (the credential test reads its /proc entries). */
  onSpawn?: (pid: number) => void;
  /** Uncompressed bytes the estimate expects, for the destination-full message. */
  estimatedFileBytes: number;
}

export interface DumpResult {
  bytes: number;
  dumpBytes: number;
  sha256: string;
  scan: DumpScan;
  scanner: DumpScanner;
}

class Tap extends Transform {
  constructor(private readonly onChunk: (chunk: Buffer) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.onChunk(chunk);
      callback(null, chunk);
    } catch (error) {
      callback(error as Error);
    }
  }
}

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

const STDERR_LIMIT = 4096;

export async function runDump(job: DumpJob): Promise<DumpResult> {
  const folder = await mkdtemp(join(tmpdir(), 'strata-dump-'));
  const defaultsFile = join(folder, 'strata-dump.cnf');
  const partial = `${job.path}.partial`;
  const children: ChildProcess[] = [];
  const killAll = () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  let defaultsRemoved = false;
  const removeDefaults = async () => {
    if (defaultsRemoved) return;
    defaultsRemoved = true;
    await rm(folder, { recursive: true, force: true });
  };
  let completed = false;
  try {
    await writeFile(defaultsFile, job.defaultsText, { mode: 0o600, flag: 'wx' });
    const argv = dumpCommand(job.client, defaultsFile, job.options);
    const dump = spawn(argv[0]!, argv.slice(1), { env: cleanChildEnv(process.env), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(dump);
    const dumpExit = exited(dump);
    let stderr = '';
    dump.stderr!.on('data', (chunk: Buffer) => {
      if (stderr.length < STDERR_LIMIT) stderr += chunk.toString('utf8');
    });
    if (dump.pid !== undefined) job.onSpawn?.(dump.pid);
    const onAbort = () => killAll();
    job.signal.addEventListener('abort', onAbort, { once: true });
    if (job.signal.aborted) killAll();

    const scanner = new DumpScanner(job.captureTables);
    const hash = createHash('sha256');
    let dumpBytes = 0;
    let bytes = 0;
    const report = () => job.onData?.({ dumpBytes, bytes, scan: scanner.snapshot() });
    const counter = new Tap((chunk) => {
      // The client has read its option files before it writes anything.
      if (dumpBytes === 0) void removeDefaults();
      dumpBytes += chunk.length;
      scanner.write(chunk);
    });
    const hasher = new Tap((chunk) => {
      bytes += chunk.length;
      hash.update(chunk);
      report();
    });
    const file = createWriteStream(partial, { flags: 'wx', mode: 0o640 });

    let compression: Promise<unknown>;
    let zstdExit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
    if (job.compression === 'zstd') {
      const zstd = spawn(job.zstdPath ?? 'zstd', ['-c', '-3', '-q'], { env: cleanChildEnv(process.env), stdio: ['pipe', 'pipe', 'pipe'] });
      children.push(zstd);
      zstdExit = exited(zstd);
      compression = Promise.all([pipeline(dump.stdout!, counter, zstd.stdin!), pipeline(zstd.stdout!, hasher, file)]);
    } else {
      compression = pipeline(dump.stdout!, counter, createGzip({ level: 6 }), hasher, file);
    }

    try {
      await compression;
    } catch (error) {
      killAll();
      if (job.signal.aborted) throw new StrataError(ErrorCode.Cancelled, 'cancelled');
      throw describeWriteError(error, job, bytes);
    } finally {
      job.signal.removeEventListener('abort', onAbort);
    }
    const [dumpEnd, zstdEnd] = await Promise.all([dumpExit, zstdExit]);
    if (job.signal.aborted) throw new StrataError(ErrorCode.Cancelled, 'cancelled');
    if (dumpEnd.code !== 0) {
      // A client whose server vanished mid-table may exit 2 without a word; then say where the dump stopped.
      const where = scanner.snapshot().currentTable;
      const why =
        stderr.trim().split('\n').filter(Boolean).at(-1) ??
        `${dumpEnd.signal ? `ended by ${dumpEnd.signal}` : `exit code ${dumpEnd.code}`} without a message, after ${dumpBytes} bytes${where ? ` while dumping ${where}` : ''}`;
      throw new StrataError(ErrorCode.BackupDumpFailed, `${job.client.kind} failed: ${why}`);
    }
    if (zstdEnd && zstdEnd.code !== 0) throw new StrataError(ErrorCode.BackupDumpFailed, `zstd failed (${zstdEnd.signal ?? `exit code ${zstdEnd.code}`})`);
    const scan = scanner.end();
    if (!scan.completed) throw new StrataError(ErrorCode.BackupDumpFailed, `${job.client.kind} ended without its closing "Dump completed" line; the dump is incomplete`);
    await rename(partial, job.path);
    completed = true;
    report();
    return { bytes, dumpBytes, sha256: hash.digest('hex'), scan, scanner };
  } finally {
    killAll();
    await removeDefaults();
    if (!completed) await unlink(partial).catch(() => {});
  }
}

function describeWriteError(error: unknown, job: DumpJob, written: number): StrataError {
  if (error instanceof StrataError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new StrataError(
      ErrorCode.BackupNoRoom,
      `the destination ${job.dest} is full: ${written} bytes were written before it ran out of space; this backup needs about ${job.estimatedFileBytes} bytes for this shard; the partial file was removed`,
      { cause: error },
    );
  }
  if (code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE') {
    return new StrataError(ErrorCode.BackupDumpFailed, `the dump stream ended early (${code})`, { cause: error });
  }
  return new StrataError(ErrorCode.BackupDumpFailed, `writing ${job.path}.partial failed: ${(error as Error).message}`, { cause: error });
}
