import { Option } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCode, StrataError } from '../../shared/errors';
import { startMetricsServer } from '../../main/metrics/server';
import { startWebHost } from '../../main/webhost/server';
import type { StrataServices } from '../../main/services';
import { formatSchedulerEvent, metricsPortOption } from './agent';
import { nextStopSignal, profileOption, type CliContext, type CommandRegistrar } from '../context';
import { packageRoot } from '../paths';
import { wholeNumberOption } from '../input';

const RENDERER_DIR = join(packageRoot(), 'out', 'renderer');

const parsePort = wholeNumberOption('--port', { min: 1, max: 65535, what: 'a port number' });

/** Serves the console for these services until Ctrl-C or SIGTERM; shared by `strata console` and `strata demo`. */
export async function serveConsole(services: StrataServices, context: CliContext, port?: number, metricsPort?: number): Promise<void> {
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) {
    throw new StrataError(ErrorCode.InvalidInput, `the console is not built (${RENDERER_DIR} is missing); run npm run build first`);
  }
  const metrics = metricsPort === undefined ? undefined : await startMetricsServer(services, { port: metricsPort, log: context.logger.scope('metrics') });
  const host = await startWebHost({ services, logger: context.logger, port, rendererDir: RENDERER_DIR }).catch(async (error: unknown) => {
    await metrics?.dispose();
    throw error;
  });
  const stopped = nextStopSignal();
  process.stdout.write(`Strata console for this cluster: ${host.url}\n(the link carries this run's access token; only this machine can connect)\nPress Ctrl-C to stop.\n`);
  if (metrics) process.stdout.write(`Prometheus metrics at ${metrics.url}\n`);
  // Like the desktop app, the console competes for the cluster lease and runs the schedules while it holds it.
  const unsubscribe = services.scheduler.onEvent((event) => process.stdout.write(`scheduler: ${formatSchedulerEvent(event)}\n`));
  await services.scheduler.start();
  services.monitor.start();
  const signal = await stopped;
  process.stdout.write(`${signal}: stopping the console\n`);
  await services.monitor.stop();
  await services.scheduler.stop();
  unsubscribe();
  await metrics?.dispose();
  await host.close();
}

export const registerConsoleCommand: CommandRegistrar = (program, context) => {
  program
    .command('console')
    .description('serve the operations console to a browser on 127.0.0.1 (tests and demos); runs until Ctrl-C')
    .addOption(profileOption())
    .addOption(new Option('--port <port>', 'port on 127.0.0.1 (default: any free port)').argParser(parsePort))
    .addOption(metricsPortOption())
    .action(async (options: { profile?: string; port?: number; metricsPort?: number }) => {
      await context.withServices(options.profile, (services) => serveConsole(services, context, options.port, options.metricsPort));
    });
};
