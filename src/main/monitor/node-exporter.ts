import parsePrometheusTextFormat, { type PrometheusFamily } from 'parse-prometheus-text-format';
import { ErrorCode, StrataError } from '../../shared/errors';

/** What one scrape of a node exporter says about its host: CPU seconds so far and memory now. */
export interface HostReading {
  /** Seconds all CPUs spent idle since boot. */
  cpuIdleSeconds: number;
  /** Seconds all CPUs spent in any mode since boot. */
  cpuTotalSeconds: number;
  memTotalBytes: number;
  memAvailableBytes: number;
}

/** A figure's value, or null with the reason the console shows instead of a number. */
export interface HostValue {
  value: number | null;
  note?: string;
}

export interface HostFigures {
  cpu: HostValue;
  memory: HostValue;
}

/** Fetches a URL's text; aborting `signal` ends the request. */
export type FetchText = (url: string, signal: AbortSignal) => Promise<string>;

const SCRAPE_DEADLINE_MS = 5000;

function gaugeOf(families: PrometheusFamily[], name: string): number | undefined {
  const value = families.find((family) => family.name === name)?.metrics[0]?.value;
  return value === undefined ? undefined : Number(value);
}

/** Reads CPU and memory from node exporter text (its cpu and meminfo collectors). */
export function parseNodeExporterText(text: string): HostReading {
  let families: PrometheusFamily[];
  try {
    families = parsePrometheusTextFormat(text);
  } catch (error) {
    throw new StrataError(ErrorCode.NodeExporterFailed, `not the Prometheus text format: ${(error as Error).message}`);
  }
  const cpu = families.find((family) => family.name === 'node_cpu_seconds_total');
  const memTotalBytes = gaugeOf(families, 'node_memory_MemTotal_bytes');
  const memAvailableBytes = gaugeOf(families, 'node_memory_MemAvailable_bytes');
  if (!cpu || memTotalBytes === undefined || memAvailableBytes === undefined) {
    throw new StrataError(ErrorCode.NodeExporterFailed, 'no node_cpu_seconds_total or node_memory_MemTotal/MemAvailable_bytes: enable the cpu and meminfo collectors');
  }
  let cpuIdleSeconds = 0;
  let cpuTotalSeconds = 0;
  for (const sample of cpu.metrics) {
    const seconds = Number(sample.value);
    if (!Number.isFinite(seconds)) continue;
    cpuTotalSeconds += seconds;
    if (sample.labels?.mode === 'idle') cpuIdleSeconds += seconds;
  }
  return { cpuIdleSeconds, cpuTotalSeconds, memTotalBytes, memAvailableBytes };
}

/** Busy share of CPU time between two scrapes; null when no time passed or the counters went back (a reboot). */
export function cpuRatioBetween(previous: HostReading, current: HostReading): number | null {
  const total = current.cpuTotalSeconds - previous.cpuTotalSeconds;
  const idle = current.cpuIdleSeconds - previous.cpuIdleSeconds;
  if (total <= 0 || idle < 0) return null;
  return clampRatio(1 - idle / total);
}

/** Used share of memory: what the kernel could not hand out without swapping. */
export function memoryRatioOf(reading: HostReading): number | null {
  if (reading.memTotalBytes <= 0) return null;
  return clampRatio(1 - reading.memAvailableBytes / reading.memTotalBytes);
}

function clampRatio(value: number): number {
  return Math.min(1, Math.max(0, value));
}

/** Global fetch with a status check; the caller's signal carries the deadline. */
export const fetchNodeExporterText: FetchText = async (url, signal) => {
  const response = await fetch(url, { signal, headers: { accept: 'text/plain' } });
  if (!response.ok) throw new StrataError(ErrorCode.NodeExporterFailed, `answered HTTP ${response.status}`);
  return response.text();
};

/**
 * Scrapes each shard's node exporter. CPU is a rate, so it needs two scrapes: the previous reading of each shard
 * is kept in memory and the first cycle reports "warming up" instead of a figure since boot.
 */
export class NodeExporterScraper {
  private readonly previous = new Map<number, HostReading>();

  constructor(
    private readonly fetchText: FetchText = fetchNodeExporterText,
    private readonly deadlineMs = SCRAPE_DEADLINE_MS,
  ) {}

  async read(shard: number, url: string | undefined): Promise<HostFigures> {
    if (!url) return { cpu: { value: null, note: 'not configured' }, memory: { value: null, note: 'not configured' } };
    let reading: HostReading;
    try {
      reading = parseNodeExporterText(await this.fetchWithDeadline(url));
    } catch (error) {
      const note = `node exporter ${url}: ${describeScrapeError(error, this.deadlineMs)}`;
      return { cpu: { value: null, note }, memory: { value: null, note } };
    }
    const before = this.previous.get(shard);
    this.previous.set(shard, reading);
    const cpu = before ? cpuRatioBetween(before, reading) : null;
    const memory = memoryRatioOf(reading);
    return {
      cpu: cpu === null ? { value: null, note: before ? 'no CPU time passed since the last scrape' : 'warming up' } : { value: cpu },
      memory: memory === null ? { value: null, note: 'MemTotal is 0' } : { value: memory },
    };
  }

  private async fetchWithDeadline(url: string): Promise<string> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.deadlineMs);
    try {
      return await this.fetchText(url, controller.signal);
    } finally {
      clearTimeout(timer);
    }
  }
}

function describeScrapeError(error: unknown, deadlineMs: number): string {
  if (error instanceof StrataError) return error.message;
  const failure = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (failure.name === 'AbortError') return `no answer within ${deadlineMs / 1000} s`;
  if (failure.cause?.code === 'ECONNREFUSED') return 'connection refused; is it running?';
  return failure.cause?.message ?? failure.message ?? String(error);
}
