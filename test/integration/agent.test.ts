import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

const STRATA_BIN = fileURLToPath(new URL('../../bin/strata.js', import.meta.url));

interface RunningAgent {
  child: ChildProcess;
  stdout(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `strata agent` in its own process, as a service manager would start it. */
function startAgent(profilePath: string): RunningAgent {
  const child = spawn(process.execPath, [STRATA_BIN, 'agent', '--profile', profilePath, '--lease-ttl', '2'], {
    env: { ...process.env, STRATA_LOG_FILE: 'off', STRATA_PROFILE: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => stdout, exited };
}

async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('strata agent', () => {
  let cluster: TestCluster;
  const agents: RunningAgent[] = [];

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 1 });
  });

  afterAll(async () => {
    for (const agent of agents) if (agent.child.exitCode === null && agent.child.signalCode === null) agent.child.kill('SIGKILL');
    await cluster?.down();
  });

  it('holds the lease while running, stands by while another agent holds it, and on SIGTERM exits 0 and releases it', async () => {
    const first = startAgent(cluster.profilePath);
    agents.push(first);
    await waitFor(() => first.stdout().includes('agent running'), 'the first agent to start');
    expect(first.stdout()).toMatch(/lease acquired with fencing token \d+/);
    await waitFor(() => /run rollup-monthly catch-up token \d+: /.test(first.stdout()), 'the catch-up runs to finish');
    expect(first.stdout()).toMatch(/run rollup-hourly catch-up token \d+: ok in [\d.]+ s, \d+ hourly windows? on 1 shard/);

    const shown = await runCli(['lease', '--json', '--profile', cluster.profilePath]);
    expect(shown.code).toBe(0);
    const lease = JSON.parse(shown.stdout);
    expect(lease).toMatchObject({ held: true, holder: { pid: first.child.pid } });

    const second = startAgent(cluster.profilePath);
    agents.push(second);
    await waitFor(() => second.stdout().includes('agent running'), 'the second agent to start');
    expect(second.stdout()).toMatch(new RegExp(`standing by: .* pid ${first.child.pid} holds the lease \\(token ${lease.holder.token}\\)`));

    first.child.kill('SIGTERM');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.stdout()).toMatch(/SIGTERM: stopping/);
    expect(first.stdout()).toMatch(new RegExp(`lease \\(token ${lease.holder.token}\\) released`));
    expect(first.stdout().trim().split('\n').at(-1)).toMatch(/agent stopped$/);

    // Released rather than left to lapse, the lease goes to the standing-by agent on its next try.
    await waitFor(() => second.stdout().includes(`lease acquired with fencing token ${lease.holder.token + 1}`), 'the second agent to take over');
    second.child.kill('SIGINT');
    expect(await second.exited).toEqual({ code: 0, signal: null });
    const after = JSON.parse((await runCli(['lease', '--json', '--profile', cluster.profilePath])).stdout);
    expect(after).toMatchObject({ held: false, lastToken: lease.holder.token + 1 });
  });

  it('refuses a bad --lease-ttl with one line and a non-zero exit, before touching the cluster', async () => {
    const run = await runCli(['agent', '--profile', cluster.profilePath, '--lease-ttl', '0']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/--lease-ttl.*must be a number of seconds from 1 to 3600/);
    const lease = JSON.parse((await runCli(['lease', '--json', '--profile', cluster.profilePath])).stdout);
    expect(lease.held).toBe(false);
  });
});
