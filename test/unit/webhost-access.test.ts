import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterStatus } from '../../src/shared/contract';
import { ErrorCode } from '../../src/shared/errors';
import { CONTENT_SECURITY_POLICY } from '../../src/main/electron/csp';
import { silentLogger } from '../../src/main/log';
import type { StrataServices } from '../../src/main/services';
import { startWebHost, type WebHost } from '../../src/main/webhost/server';

const status: ClusterStatus = {
  checkedAt: '2025-01-01T00:00:00.000Z',
  profileName: 'webhost-unit',
  healthy: true,
  warnings: [],
  shards: [],
  redis: { url: 'redis://127.0.0.1:1/0', reachable: true },
};

/** Just the part of the services the handlers and the event stream call; there is no database behind this web host. */
const services = {
  status: { get: async () => status, dispose: async () => {} },
  backfill: { onProgress: () => () => {} },
  partitions: { onProgress: () => () => {} },
  conversion: { onProgress: () => () => {} },
  retention: { onProgress: () => () => {} },
  backup: { onProgress: () => () => {}, onVerifyProgress: () => () => {} },
  monitor: { onCycle: () => () => {} },
  alerts: { onChange: () => () => {} },
} as unknown as StrataServices;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** node:http rather than fetch, because fetch will not send a forged Host header or an un-normalised path. */
function send(port: number, path: string, options: { method?: string; headers?: OutgoingHttpHeaders; body?: string; address?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      { host: options.address ?? '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { host: `127.0.0.1:${port}`, ...options.headers } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

let rendererDir: string;
let host: WebHost;
let cookie: string;

function callApi(channel: string, body: string, headers: OutgoingHttpHeaders) {
  return send(host.port, `/api/${channel}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
}

beforeAll(async () => {
  rendererDir = await mkdtemp(join(tmpdir(), 'strata-webhost-unit-'));
  await writeFile(join(rendererDir, 'index.html'), '<!doctype html><html><head><title>Strata</title></head><body>console page</body></html>');
  await writeFile(join(rendererDir, 'app.js'), 'console.log("app");');
  host = await startWebHost({ services, logger: silentLogger, rendererDir });
  cookie = `strata_token_${host.port}=${host.token}`;
});

afterAll(async () => {
  await host?.close();
  await rm(rendererDir, { recursive: true, force: true });
});

describe('test web host: access token', () => {
  it('prints a loopback URL that carries a long random token', () => {
    expect(host.url).toBe(`http://127.0.0.1:${host.port}/?token=${host.token}`);
    expect(Buffer.from(host.token, 'base64url')).toHaveLength(32);
  });

  it('refuses the page without a token', async () => {
    const reply = await send(host.port, '/');
    expect(reply.status).toBe(401);
    expect(reply.body).not.toContain('console page');
  });

  it('refuses the page and the scripts with a wrong token', async () => {
    const wrong = 'A'.repeat(host.token.length);
    expect((await send(host.port, `/?token=${wrong}`)).status).toBe(401);
    expect((await send(host.port, '/app.js', { headers: { cookie: `strata_token_${host.port}=${wrong}` } })).status).toBe(401);
  });

  it('trades the token in the URL for an HttpOnly, SameSite=Strict cookie and drops it from the address', async () => {
    const reply = await send(host.port, `/?token=${host.token}`);
    expect(reply.status).toBe(303);
    expect(reply.headers.location).toBe('/');
    expect(reply.headers['set-cookie']?.[0]).toBe(`${cookie}; Path=/; HttpOnly; SameSite=Strict`);
  });

  it('serves the page with the cookie, with the CSP, and gives the page the token for API calls', async () => {
    const reply = await send(host.port, '/', { headers: { cookie } });
    expect(reply.status).toBe(200);
    expect(reply.body).toContain('console page');
    expect(reply.body).toContain(`<meta name="strata-web-token" content="${host.token}" />`);
    expect(reply.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(reply.headers['x-frame-options']).toBe('DENY');
  });

  it('refuses API calls without both the cookie and the X-Strata-Token header', async () => {
    const body = '{}';
    expect((await callApi('cluster:status', body, {})).status).toBe(401);
    expect((await callApi('cluster:status', body, { cookie })).status).toBe(401);
    expect((await callApi('cluster:status', body, { 'x-strata-token': host.token })).status).toBe(401);
    const wrongHeader = await callApi('cluster:status', body, { cookie, 'x-strata-token': `${host.token}x` });
    expect(wrongHeader.status).toBe(401);
    expect(JSON.parse(wrongHeader.body)).toMatchObject({ ok: false, code: ErrorCode.ForbiddenSender });
  });

  it('answers an authorised API call through dispatch', async () => {
    const reply = await callApi('cluster:status', '{}', { cookie, 'x-strata-token': host.token });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ ok: true, data: status });
  });

  it('reports unknown channels and invalid payloads with their error codes', async () => {
    const headers = { cookie, 'x-strata-token': host.token };
    expect(JSON.parse((await callApi('cluster:explode', '{}', headers)).body)).toMatchObject({ ok: false, code: ErrorCode.UnknownChannel });
    expect(JSON.parse((await callApi('cluster:status', '{"force":true}', headers)).body)).toMatchObject({ ok: false, code: ErrorCode.InvalidInput });
    const notJson = await callApi('cluster:status', '{"force":', headers);
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.body)).toMatchObject({ ok: false, code: ErrorCode.InvalidInput });
  });
});

describe('test web host: where it can be reached', () => {
  it('refuses a foreign Host header even with valid credentials (DNS rebinding)', async () => {
    const reply = await send(host.port, '/', { headers: { cookie, host: `attacker.example:${host.port}` } });
    expect(reply.status).toBe(403);
    expect(reply.body).not.toContain('console page');
    const api = await callApi('cluster:status', '{}', { cookie, 'x-strata-token': host.token, host: `attacker.example:${host.port}` });
    expect(api.status).toBe(403);
  });

  it('accepts localhost:PORT as the Host', async () => {
    expect((await send(host.port, '/', { headers: { cookie, host: `localhost:${host.port}` } })).status).toBe(200);
  });

  it('listens on 127.0.0.1 only, not on other addresses of the machine', async () => {
    // Linux routes all of 127/8 to the loopback device: a server on 0.0.0.0 would answer on 127.0.0.2 too.
    await expect(send(host.port, '/', { address: '127.0.0.2', headers: { cookie } })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('refuses to start on any address but 127.0.0.1', async () => {
    for (const address of ['0.0.0.0', '::', '192.168.1.10', 'localhost']) {
      await expect(startWebHost({ services, logger: silentLogger, rendererDir, host: address })).rejects.toMatchObject({ code: ErrorCode.InvalidInput });
    }
  });

  it('says when the port is taken', async () => {
    await expect(startWebHost({ services, logger: silentLogger, rendererDir, port: host.port })).rejects.toMatchObject({ code: ErrorCode.PortInUse });
  });

  it('says to build first when the renderer is missing', async () => {
    await expect(startWebHost({ services, logger: silentLogger, rendererDir: join(rendererDir, 'missing') })).rejects.toThrow(/npm run build/);
  });

  it('serves nothing outside the renderer folder', async () => {
    await writeFile(join(rendererDir, '..', 'strata-webhost-outside.js'), 'secret');
    try {
      for (const path of ['/%2e%2e/strata-webhost-outside.js', '/..%2fstrata-webhost-outside.js', '/..%5cstrata-webhost-outside.js']) {
        const reply = await send(host.port, path, { headers: { cookie } });
        expect(reply.status).toBe(404);
        expect(reply.body).not.toContain('secret');
      }
    } finally {
      await rm(join(rendererDir, '..', 'strata-webhost-outside.js'), { force: true });
    }
  });
});

describe('content security policy', () => {
  it('is the same in the page itself (file:// in Electron) as in the response headers', async () => {
    const html = await readFile(join(import.meta.dirname, '../../src/renderer/index.html'), 'utf8');
    const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1];
    expect(meta).toBe(CONTENT_SECURITY_POLICY);
  });
});
