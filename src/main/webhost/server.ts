import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode, StrataError } from '../../shared/errors';
import type { Result } from '../../shared/result';
import { CONTENT_SECURITY_POLICY } from '../electron/csp';
import { createHandlers, dispatch, forwardEvents, type Handlers } from '../ipc/handlers';
import type { Logger, ScopedLogger } from '../log';
import type { StrataServices } from '../services';
import {
  LOOPBACK_ADDRESS,
  TOKEN_HEADER,
  cookieName,
  isExpectedHost,
  isExpectedOrigin,
  newAccessToken,
  readCookie,
  sameToken,
  sessionCookie,
} from './access';
import { RendererFiles } from './static-files';

export interface WebHostOptions {
  /** Services from the composition root; the web host uses them but does not dispose them. */
  services: StrataServices;
  logger: Logger;
  /** TCP port; 0 or none picks a free one. */
  port?: number;
  /** Only 127.0.0.1 is accepted: the host refuses to listen anywhere else. */
  host?: string;
  /** The built renderer (out/renderer). */
  rendererDir: string;
}

/** A running test web host. Open `url` (it carries the token) in a browser; `close()` stops serving. */
export interface WebHost {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
/** A comment line on idle event streams, so proxies and the browser do not take a quiet stream for a dead one. */
const EVENT_STREAM_KEEPALIVE_MS = 15_000;

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function send(response: ServerResponse, status: number, contentType: string, body: string | Buffer, extraHeaders: Record<string, string> = {}): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...extraHeaders });
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, result: Result<unknown>): void {
  send(response, status, 'application/json; charset=utf-8', JSON.stringify(result));
}

async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const contentType = request.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(contentType)) {
    throw new HttpFailure(415, ErrorCode.InvalidInput, 'the request body must be JSON (Content-Type: application/json)');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpFailure(413, ErrorCode.InvalidInput, `the request body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpFailure(400, ErrorCode.InvalidInput, 'the request body is not valid JSON');
  }
}

/**
 * Serves the console to an ordinary browser for tests and demos: the built renderer plus `POST /api/<channel>`,
 * which goes through the same `dispatch` as Electron's IPC. Loopback only, and every request needs the token.
 */
export async function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const host = options.host ?? LOOPBACK_ADDRESS;
  if (host !== LOOPBACK_ADDRESS) {
    throw new StrataError(ErrorCode.InvalidInput, `the web host only listens on ${LOOPBACK_ADDRESS}, not ${host}: it serves the cluster without a login`);
  }
  const log = options.logger.scope('webhost');
  const token = newAccessToken();
  const files = await RendererFiles.open(options.rendererDir, token);
  const handlers = createHandlers(options.services);
  const streams = new EventStreams();
  const server = createServer();
  const port = await listen(server, options.port ?? 0);
  const stopEvents = forwardEvents(options.services, (event, payload) => streams.send(event, payload), log);
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    handleRequest({ request, response, port, token, files, handlers, streams, log }).catch((error: unknown) => {
      log.error('request failed', error);
      if (!response.headersSent) sendJson(response, 500, { ok: false, code: ErrorCode.Internal, message: 'Internal error; see the log for details.' });
      else response.destroy();
    });
  });
  const url = `http://${LOOPBACK_ADDRESS}:${port}/?token=${token}`;
  log.info(`serving the console on ${LOOPBACK_ADDRESS}:${port}`);
  return {
    url,
    port,
    token,
    close: () =>
      new Promise<void>((resolve, reject) => {
        stopEvents();
        streams.closeAll();
        server.close((error) => (error ? reject(error) : resolve()));
        // Browsers keep connections alive; without this close() would wait for them to time out.
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new StrataError(ErrorCode.PortInUse, `port ${port} on ${LOOPBACK_ADDRESS} is already in use; choose another with --port`)
          : error,
      );
    });
    server.listen(port, LOOPBACK_ADDRESS, () => resolve((server.address() as AddressInfo).port));
  });
}

interface RequestContext {
  request: IncomingMessage;
  response: ServerResponse;
  port: number;
  token: string;
  files: RendererFiles;
  handlers: Handlers;
  streams: EventStreams;
  log: ScopedLogger;
}

/** The open `/events` streams; every contract event goes to all of them as one Server-Sent Event. */
class EventStreams {
  private readonly open = new Set<ServerResponse>();
  private keepalive: NodeJS.Timeout | undefined;

  add(response: ServerResponse): void {
    this.open.add(response);
    response.on('close', () => {
      this.open.delete(response);
      if (this.open.size === 0) this.stopKeepalive();
    });
    this.keepalive ??= setInterval(() => this.write(': keepalive\n\n'), EVENT_STREAM_KEEPALIVE_MS);
    this.keepalive.unref();
  }

  send(event: string, payload: unknown): void {
    this.write(`event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`);
  }

  closeAll(): void {
    this.stopKeepalive();
    for (const response of this.open) response.end();
    this.open.clear();
  }

  private write(text: string): void {
    for (const response of this.open) response.write(text);
  }

  private stopKeepalive(): void {
    clearInterval(this.keepalive);
    this.keepalive = undefined;
  }
}

async function handleRequest(context: RequestContext): Promise<void> {
  const { request, response, port, token } = context;
  if (!isExpectedHost(request.headers.host, port)) {
    log(context, 403);
    sendJson(response, 403, { ok: false, code: ErrorCode.ForbiddenSender, message: `the console is only served as ${LOOPBACK_ADDRESS}:${port} or localhost:${port}` });
    return;
  }
  const url = new URL(request.url ?? '/', `http://${LOOPBACK_ADDRESS}:${port}`);
  const hasCookie = sameToken(readCookie(request, cookieName(port)), token);
  try {
    if (url.pathname.startsWith('/api/')) {
      if (!hasCookie || !sameToken(headerValue(request, TOKEN_HEADER), token)) {
        throw new HttpFailure(401, ErrorCode.ForbiddenSender, 'missing or wrong access token; open the URL that strata console printed');
      }
      await serveApi(context, url);
      return;
    }
    if (url.pathname === '/events') {
      // An EventSource cannot send the token header: the SameSite cookie, the Host and the Origin protect it.
      if (!hasCookie || !isExpectedOrigin(request, port)) {
        throw new HttpFailure(401, ErrorCode.ForbiddenSender, 'missing or wrong access token; open the URL that strata console printed');
      }
      serveEvents(context);
      return;
    }
    const queryToken = url.searchParams.get('token') ?? undefined;
    if (queryToken !== undefined && sameToken(queryToken, token)) {
      // Trade the token in the address bar for a cookie, and drop it from the URL so it stays out of history.
      url.searchParams.delete('token');
      send(response, 303, 'text/plain; charset=utf-8', '', { Location: `${url.pathname}${url.search}`, 'Set-Cookie': sessionCookie(port, token) });
      return;
    }
    if (!hasCookie) throw new HttpFailure(401, ErrorCode.ForbiddenSender, 'missing or wrong access token; open the URL that strata console printed');
    await serveFile(context, url);
  } catch (error) {
    if (!(error instanceof HttpFailure)) throw error;
    log(context, error.status);
    if (url.pathname.startsWith('/api/')) sendJson(response, error.status, { ok: false, code: error.code, message: error.message });
    else send(response, error.status, 'text/plain; charset=utf-8', `${error.message}\n`);
  }
}

async function serveApi(context: RequestContext, url: URL): Promise<void> {
  const { request, response, handlers } = context;
  if (request.method !== 'POST') throw new HttpFailure(405, ErrorCode.InvalidInput, 'API calls must be POST');
  let channel: string;
  try {
    channel = decodeURIComponent(url.pathname.slice('/api/'.length));
  } catch {
    throw new HttpFailure(400, ErrorCode.InvalidInput, 'the channel name in the URL is not valid');
  }
  const payload = await readJsonBody(request);
  const result = await dispatch(handlers, channel, payload, context.log);
  sendJson(response, 200, result);
}

function serveEvents(context: RequestContext): void {
  const { request, response, streams } = context;
  if (request.method !== 'GET') throw new HttpFailure(405, ErrorCode.InvalidInput, 'the event stream is read with GET');
  response.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': 'text/event-stream; charset=utf-8', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
  // The first bytes tell the browser the stream is open, so it fires `open` at once.
  response.write(': connected\n\n');
  streams.add(response);
}

async function serveFile(context: RequestContext, url: URL): Promise<void> {
  const { request, response, files } = context;
  if (request.method !== 'GET' && request.method !== 'HEAD') throw new HttpFailure(405, ErrorCode.InvalidInput, 'only GET and HEAD are served here');
  const file = await files.read(url.pathname);
  if (!file) throw new HttpFailure(404, ErrorCode.InvalidInput, `no such file: ${url.pathname}`);
  if (request.method === 'HEAD') {
    response.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': file.contentType, 'Content-Length': file.body.length });
    response.end();
    return;
  }
  send(response, 200, file.contentType, file.body);
}

function headerValue(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function log(context: RequestContext, status: number): void {
  // The path only: a query could hold the token.
  context.log.warn(`${context.request.method} ${(context.request.url ?? '/').split('?')[0]} → ${status}`);
}
