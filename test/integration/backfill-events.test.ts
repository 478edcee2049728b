import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/main/log';
import { cookieName } from '../../src/main/webhost/access';
import { startWebHost, type WebHost } from '../../src/main/webhost/server';
import type { BackfillProgress } from '../../src/shared/backfill';
import { startTestCluster, type TestCluster } from '../support/cluster';

const HOUR = 3_600_000;
const lastHour = new Date(Math.floor(Date.now() / HOUR) * HOUR - HOUR);

function get(host: WebHost, headers: Record<string, string>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port: host.port, path: '/events', method: 'GET', headers }, resolve);
    request.on('error', reject);
    request.end();
  });
}

/** Reads Server-Sent Events from a stream until `enough` says stop. */
async function readEvents(response: IncomingMessage, enough: (events: Array<{ event: string; data: unknown }>) => boolean) {
  const events: Array<{ event: string; data: unknown }> = [];
  let buffer = '';
  for await (const chunk of response as AsyncIterable<Buffer>) {
    buffer += chunk.toString('utf8');
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) });
    }
    if (enough(events)) break;
  }
  response.destroy();
  return events;
}

describe('backfill progress over the web host’s event stream', () => {
  let cluster: TestCluster;
  let host: WebHost;
  let rendererDir: string;

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
    await cluster.services.generator.run({ from: new Date(lastHour.getTime() - HOUR).toISOString(), to: new Date(lastHour.getTime() + HOUR).toISOString(), sites: 4, views: 400, seed: 2 });
    rendererDir = await mkdtemp(join(tmpdir(), 'strata-renderer-'));
    await writeFile(join(rendererDir, 'index.html'), '<html><head></head><body></body></html>');
    host = await startWebHost({ services: cluster.services, logger: silentLogger, rendererDir });
  });

  afterAll(async () => {
    await host?.close();
    await cluster?.down();
    if (rendererDir) await rm(rendererDir, { recursive: true, force: true });
  });

  it('refuses the stream without the cookie, from a foreign origin or under a foreign Host', async () => {
    const cookie = `${cookieName(host.port)}=${host.token}`;
    const hostHeader = `127.0.0.1:${host.port}`;
    const refused: Array<Record<string, string>> = [{ host: hostHeader }, { host: hostHeader, cookie: `${cookieName(host.port)}=wrong` }, { host: hostHeader, cookie, origin: 'http://evil.example' }, { host: `evil.example:${host.port}`, cookie }];
    for (const headers of refused) {
      const response = await get(host, headers);
      expect([401, 403], JSON.stringify(headers)).toContain(response.statusCode);
      expect(response.headers['content-type']).not.toContain('event-stream');
      response.resume();
    }
  });

  it('streams every progress event of a backfill, validated, to a signed-in page', async () => {
    const response = await get(host, { host: `127.0.0.1:${host.port}`, cookie: `${cookieName(host.port)}=${host.token}`, 'sec-fetch-site': 'same-origin' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const received = readEvents(response, (events) => events.some((event) => (event.data as BackfillProgress).kind === 'finished'));
    const run = await cluster.services.backfill.start({ level: 'hourly', from: new Date(lastHour.getTime() - HOUR).toISOString(), to: new Date(lastHour.getTime() + HOUR).toISOString() });
    await run.finished;
    const events = await received;
    expect(events.every((event) => event.event === 'backfill:onProgress')).toBe(true);
    expect(events.map((event) => `${(event.data as BackfillProgress).kind} ${(event.data as BackfillProgress).windowsDone}`)).toEqual([
      'window-started 0',
      'window-finished 1',
      'window-started 1',
      'window-finished 2',
      'finished 2',
    ]);
    expect(events.at(-1)?.data).toMatchObject({ backfillId: run.record.id, state: 'done', windowsTotal: 2 });
  });
});
