import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/shared/errors';
import { startMetricsServer, type MetricsServer } from '../../src/main/metrics/server';
import { startTestCluster, type TestCluster } from '../support/cluster';

const STRATA_BIN = fileURLToPath(new URL('../../bin/strata.js', import.meta.url));

/** A loopback port that was free a moment ago. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function scrape(url: string): Promise<{ status: number; contentType: string | null; families: Map<string, PrometheusFamily> }> {
  const response = await fetch(url);
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type'), families: new Map(parsePrometheusTextFormat(text).map((family) => [family.name, family])) };
}

describe('the Prometheus endpoint of a host (strata agent / console --metrics-port)', () => {
  let cluster: TestCluster;
  let server: MetricsServer;

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 1 });
    server = await startMetricsServer(cluster.services, { port: 0 });
  });

  afterAll(async () => {
    await server?.dispose();
    await cluster?.down();
  });

  it("counts the scheduler's real runs by job and outcome, scraped over HTTP on 127.0.0.1", async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/metrics`);
    await cluster.services.scheduler.start();
    await cluster.services.scheduler.idle();
    await cluster.services.scheduler.stop();
    const { status, contentType, families } = await scrape(server.url);
    expect(status).toBe(200);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const runs = families.get('strata_runs_total');
    expect(runs?.type).toBe('COUNTER');
    const jobs = (runs?.metrics ?? []).map((sample) => sample.labels?.job);
    expect(jobs).toContain('rollup-hourly');
    expect((runs?.metrics ?? []).every((sample) => ['ok', 'failed', 'aborted', 'skipped'].includes(sample.labels?.outcome ?? '') && Number(sample.value) >= 1)).toBe(true);
  });

  it("serves a real probe cycle's figures as gauges labelled by shard name and level", async () => {
    const snapshot = await cluster.services.monitor.runCycle({ record: false });
    const { families } = await scrape(server.url);
    expect(families.get('strata_shard_up')?.metrics).toEqual([{ labels: { shard: 'shard0' }, value: '1' }]);
    expect(families.get('strata_redis_up')?.metrics).toEqual([{ value: '1' }]);
    expect(Number(families.get('strata_probe_latency_ms')?.metrics[0]?.value)).toBeGreaterThan(0);
    const levels = (families.get('strata_watermark_lag_seconds')?.metrics ?? []).map((sample) => sample.labels);
    expect(levels).toEqual(expect.arrayContaining([{ shard: 'shard0', level: 'hourly' }, { shard: 'shard0', level: 'daily' }]));
    // The test cluster runs no node exporter: host figures are "not configured", so they have no series at all.
    expect(snapshot.shards[0]?.hostMetricsConfigured).toBe(false);
    expect(families.get('strata_host_memory_ratio')?.metrics ?? []).toEqual([]);
    expect(families.get('strata_monitor_cycle_queries')?.metrics).toEqual([{ value: String(snapshot.queries) }]);
    expect(families.get('strata_window_duration_seconds')?.type).toBe('HISTOGRAM');
  });

  it('answers only /metrics, refuses a port in use in one line, and never listens beyond loopback', async () => {
    expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(404);
    await expect(startMetricsServer(cluster.services, { port: server.port })).rejects.toMatchObject({
      code: ErrorCode.MetricsPortFailed,
      message: `the metrics port 127.0.0.1:${server.port} is in use by another process; choose another --metrics-port`,
    });
    await expect(startMetricsServer(cluster.services, { port: 0, host: '0.0.0.0' })).rejects.toMatchObject({ code: ErrorCode.MetricsPortFailed });
  });

  it('is served by `strata agent --metrics-port`, with the runs the agent made and the cycles it probed, until SIGTERM', async () => {
    const port = await freePort();
    // The shortest probe interval a profile may set, so the first cycle comes 5 s after the start, not 30.
    const profilePath = join(cluster.dir, 'profile-probe-5s.json');
    await writeFile(profilePath, JSON.stringify({ ...cluster.profile, monitor: { ...cluster.profile.monitor, probeIntervalSeconds: 5 } }));
    const agent = spawn(process.execPath, [STRATA_BIN, 'agent', '--profile', profilePath, '--lease-ttl', '2', '--metrics-port', String(port)], {
      env: { ...process.env, STRATA_LOG_FILE: 'off', STRATA_PROFILE: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    agent.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    agent.stderr.resume();
    const exited = new Promise<number | null>((resolve) => agent.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 60_000;
      let families = new Map<string, PrometheusFamily>();
      while (!(families.get('strata_runs_total')?.metrics.length && families.get('strata_shard_up')?.metrics.length)) {
        if (Date.now() > deadline) throw new Error(`the agent's metrics never showed a run and a cycle; it printed:\n${stdout}`);
        await sleep(200);
        if (stdout.includes('agent running')) families = (await scrape(`http://127.0.0.1:${port}/metrics`)).families;
      }
      expect(stdout).toContain(`Prometheus metrics at http://127.0.0.1:${port}/metrics`);
      expect(families.get('strata_shard_up')?.metrics).toEqual([{ labels: { shard: 'shard0' }, value: '1' }]);
    } finally {
      agent.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });
});
