import { execFile, spawn } from 'node:child_process';
import { access, constants, readdir, readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { ErrorCode, StrataError } from '../../shared/errors';

const execFileAsync = promisify(execFile);

/**
 * Looks a program up on STRATA_SERVER_PATH when set (for servers installed outside the system folders, such as
 * /opt/mysql/bin), otherwise on PATH and then in the sbin folders that a non-root PATH often lacks.
 */
export async function findProgram(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const folders = env.STRATA_SERVER_PATH
    ? env.STRATA_SERVER_PATH.split(delimiter)
    : [...(env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const folder of folders.filter(Boolean)) {
    const candidate = join(folder, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

export async function runToCompletion(file: string, args: string[], what: string): Promise<void> {
  try {
    await execFileAsync(file, args, { maxBuffer: 4 * 1024 * 1024 });
  } catch (error) {
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim().split('\n').slice(-3).join(' ');
    throw new StrataError(ErrorCode.SandboxStartFailed, `${what} failed: ${stderr || (error as Error).message}`);
  }
}

export async function programOutput(file: string, args: string[]): Promise<string> {
  const { stdout, stderr } = await execFileAsync(file, args);
  return `${stdout}${stderr}`;
}

/** Starts a server that outlives this process (the CLI exits while the sandbox keeps running). */
export function spawnDetached(file: string, args: string[]): number {
  const child = spawn(file, args, { detached: true, stdio: 'ignore' });
  child.unref();
  if (child.pid === undefined) throw new StrataError(ErrorCode.SandboxStartFailed, `could not start ${file}`);
  return child.pid;
}

export async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Asks the kernel for free loopback ports; they are only reserved until we close them, which is fine for a sandbox. */
export async function pickFreePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen({ port: 0, host: '127.0.0.1' }, () => resolve(server));
    })),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    return typeof address === 'object' && address ? address.port : 0;
  });
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function readPid(pidFile: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(pidFile, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The pid from a pid file only counts when that process still runs with our data directory on its command line:
 * after a reboot the number may belong to something else, which we must never signal.
 */
export async function ownedPid(pidFile: string, marker: string): Promise<number | undefined> {
  const pid = await readPid(pidFile);
  if (pid === undefined || !isProcessAlive(pid)) return undefined;
  try {
    const commandLine = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replaceAll('\0', ' ');
    return commandLine.includes(marker) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return check();
}

/**
 * True once every thread of `pid` is stopped (state T in /proc). kill() only queues SIGSTOP: a thread already
 * running on another core may still answer a statement sent right after it, so a freeze drill waits for this.
 */
export async function isProcessStopped(pid: number): Promise<boolean> {
  try {
    const threads = await readdir(`/proc/${pid}/task`);
    const states = await Promise.all(threads.map(async (thread) => (await readFile(`/proc/${pid}/task/${thread}/stat`, 'utf8')).replace(/^.*\) /s, '')[0]));
    return states.every((state) => state === 'T' || state === 't');
  } catch {
    return false;
  }
}

/** SIGTERM lets mariadbd and redis-server shut down cleanly; SIGKILL only if they ignore it. */
export async function stopProcess(pid: number, timeoutMs = 60_000): Promise<void> {
  if (!isProcessAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  if (await waitFor(async () => !isProcessAlive(pid), timeoutMs, 100)) return;
  process.kill(pid, 'SIGKILL');
  await waitFor(async () => !isProcessAlive(pid), 5000, 50);
}

/**
 * A Redis PING over a raw socket, so readiness does not depend on a client library's retry policy; over TLS
 * (verified against `tls.ca`) when the server listens only on TLS.
 */
export function redisPing(port: number, tls?: { ca: string }): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls ? connectTls({ host: '127.0.0.1', port, ca: readFileSync(tls.ca), rejectUnauthorized: true }) : new Socket();
    const finish = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(1000, () => finish(false));
    socket.once('error', () => finish(false));
    if (tls) socket.once('secureConnect', () => socket.write('PING\r\n'));
    else socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (data) => finish(data.toString().startsWith('+PONG')));
  });
}

export async function tailOf(file: string, lines = 5): Promise<string> {
  try {
    const text = await readFile(file, 'utf8');
    return text.trim().split('\n').slice(-lines).join(' | ');
  } catch {
    return '';
  }
}
