import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuRatioBetween, memoryRatioOf, NodeExporterScraper, parseNodeExporterText } from '../../src/main/monitor/node-exporter';

// Saved from a real `prometheus-node-exporter --collector.disable-defaults --collector.cpu --collector.meminfo` (2 CPUs).
const FIXTURE = readFileSync(join(__dirname, '../fixtures/node-exporter-cpu-meminfo.txt'), 'utf8');

/** The fixture with every CPU's idle and user seconds moved on, as a later scrape would show them. */
function later(text: string, idleBy: number, userBy: number): string {
  return text.replace(/^(node_cpu_seconds_total\{cpu="\d+",mode="(idle|user)"\}) (\S+)$/gm, (_, series: string, mode: string, value: string) => `${series} ${Number(value) + (mode === 'idle' ? idleBy : userBy)}`);
}

describe('node exporter text', () => {
  it('reads CPU seconds and memory from a real scrape', () => {
    const reading = parseNodeExporterText(FIXTURE);
    expect(reading.cpuIdleSeconds).toBeCloseTo(10945.26 + 10953.76, 2);
    expect(reading.cpuTotalSeconds).toBeGreaterThan(reading.cpuIdleSeconds);
    expect(reading.memTotalBytes).toBe(25275990016);
    expect(memoryRatioOf(reading)).toBeCloseTo(1 - 24682094592 / 25275990016, 6);
  });

  it('computes CPU from the change between two scrapes, not since boot', () => {
    const first = parseNodeExporterText(FIXTURE);
    // Two CPUs over 10 s: 15 s idle and 5 s busy in all, so 25 % busy.
    const second = parseNodeExporterText(later(FIXTURE, 7.5, 2.5));
    expect(cpuRatioBetween(first, second)).toBeCloseTo(0.25, 6);
    expect(cpuRatioBetween(second, first)).toBeNull();
  });

  it('refuses text without the cpu and meminfo collectors, naming them', () => {
    expect(() => parseNodeExporterText('go_goroutines 8\n')).toThrow(/cpu and meminfo collectors/);
  });

  it('says "warming up" for CPU on the first scrape and gives a ratio on the second', async () => {
    const pages = [FIXTURE, later(FIXTURE, 1, 1)];
    const scraper = new NodeExporterScraper(async () => pages.shift() ?? FIXTURE);
    const first = await scraper.read(0, 'http://127.0.0.1:9100/metrics');
    expect(first.cpu).toEqual({ value: null, note: 'warming up' });
    expect(first.memory.value).toBeGreaterThan(0);
    const second = await scraper.read(0, 'http://127.0.0.1:9100/metrics');
    expect(second.cpu.value).toBeCloseTo(0.5, 6);
  });

  it('says "not configured" without a URL, and the error when the scrape fails', async () => {
    const scraper = new NodeExporterScraper(async () => {
      throw Object.assign(new Error('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    });
    expect(await scraper.read(0, undefined)).toEqual({ cpu: { value: null, note: 'not configured' }, memory: { value: null, note: 'not configured' } });
    const failed = await scraper.read(1, 'http://127.0.0.1:1/metrics');
    expect(failed.cpu.value).toBeNull();
    expect(failed.memory.note).toBe('node exporter http://127.0.0.1:1/metrics: connection refused; is it running?');
  });
});
