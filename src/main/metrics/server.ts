import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode, StrataError } from '../../shared/errors';
import { isLoopbackHost } from '../advisor/planner';
import type { ScopedLogger } from '../log';
import type { StrataServices } from '../services';
import { StrataMetrics } from './collector';

export interface MetricsServerOptions {
  /** 0 picks a free port (tests); the answer says which. */
  port: number;
  /** Loopback only: the figures name shards and hosts, and the endpoint has no authentication. */
  host?: string;
  log?: ScopedLogger;
}

export interface MetricsServer {
  port: number;
  url: string;
  metrics: StrataMetrics;
  dispose(): Promise<void>;
}

/** The services the endpoint reads: every cycle, every run and every alert change of this process. */
export type MetricsSources = Pick<StrataServices, 'monitor' | 'scheduler' | 'alerts'>;

function listenFailure(error: NodeJS.ErrnoException, host: string, port: number): StrataError {
  const where = `${host}:${port}`;
  if (error.code === 'EADDRINUSE') return new StrataError(ErrorCode.MetricsPortFailed, `the metrics port ${where} is in use by another process; choose another --metrics-port`);
  if (error.code === 'EACCES') return new StrataError(ErrorCode.MetricsPortFailed, `the metrics port ${where} needs privileges this process lacks; choose a port above 1023`);
  return new StrataError(ErrorCode.MetricsPortFailed, `cannot serve metrics on ${where}: ${error.message}`);
}

/**
 * Serves GET /metrics in the Prometheus text format on a loopback port, filled from the services' events: each
 * probe cycle's figures, each scheduled run, each alert change. Nothing is read from the cluster on a scrape.
 */
export async function startMetricsServer(services: MetricsSources, options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    throw new StrataError(ErrorCode.MetricsPortFailed, `the metrics endpoint serves loopback only (127.0.0.1 or ::1), not ${host}: let a local Prometheus agent or a proxy scrape it`);
  }
  const metrics = new StrataMetrics();
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: Strata serves /metrics\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('only GET /metrics\n');
      return;
    }
    metrics.text().then(
      (text) => response.writeHead(200, { 'content-type': metrics.contentType }).end(request.method === 'HEAD' ? undefined : text),
      (error: unknown) => {
        options.log?.error('the metrics could not be written', error);
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('the metrics could not be written\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenFailure(error, host, options.port)));
    server.listen(options.port, host, () => resolve());
  });
  const unsubscribe = [
    services.monitor.onCycle((snapshot) => metrics.observeSnapshot(snapshot)),
    services.scheduler.onEvent((event) => {
      if (event.kind === 'run') metrics.observeRun(event.run);
    }),
    services.alerts.onChange((list) => metrics.observeAlerts(list)),
  ];
  // The alert states from before this process started count too; without an alert engine there are none to show.
  Promise.resolve()
    .then(() => services.alerts.list({ includeResolved: false }))
    .then(
      (list) => metrics.observeAlerts(list),
      (error: unknown) => options.log?.debug('no alert states for the metrics yet', error),
    );
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  const urlHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return {
    port,
    url: `http://${urlHost}:${port}/metrics`,
    metrics,
    dispose() {
      closed ??= new Promise<void>((resolve) => {
        for (const stop of unsubscribe) stop();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
