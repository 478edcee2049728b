import { Option } from 'commander';
import { ErrorCode, StrataError } from '../../shared/errors';
import { DEFAULT_LEASE_TTL_MS } from '../../main/lease/lease';
import { startMetricsServer } from '../../main/metrics/server';
import { loadProfile } from '../../main/profile-loader';
import type { SchedulerEvent } from '../../main/scheduler/service';
import { EnvSecretResolver } from '../../main/secrets';
import { createServices } from '../../main/services';
import { nextStopSignal, profileOption, type CommandRegistrar } from '../context';
import { wholeNumberOption } from '../input';

const MAX_LEASE_TTL_SECONDS = 3600;

export const parseMetricsPort = wholeNumberOption('--metrics-port', { min: 1, max: 65535, what: 'a port number' });

/** The --metrics-port option of the agent and the console. */
export function metricsPortOption(): Option {
  return new Option('--metrics-port <port>', 'serve Prometheus metrics at http://127.0.0.1:<port>/metrics (off unless given)').argParser(parseMetricsPort);
}

export function parseLeaseTtl(text: string): number {
  const seconds = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || seconds < 1 || seconds > MAX_LEASE_TTL_SECONDS) {
    throw new StrataError(ErrorCode.InvalidInput, `--lease-ttl must be a number of seconds from 1 to ${MAX_LEASE_TTL_SECONDS}, got '${text}'`);
  }
  return seconds;
}

/** One line per lease change and per run, as the agent prints them on stdout. */
export function formatSchedulerEvent(event: SchedulerEvent): string {
  switch (event.kind) {
    case 'lease-acquired':
      return `lease acquired with fencing token ${event.token}; this process now runs the schedules`;
    case 'lease-lost':
      return event.reason === 'stopped'
        ? `lease (token ${event.token}) released`
        : `lease (token ${event.token}) lost: ${event.reason === 'taken' ? 'it lapsed or another scheduler took it' : 'Redis did not answer in time'}; standing by`;
    case 'run': {
      const { run } = event;
      return `run ${run.job} ${run.trigger} token ${run.fencingToken}: ${run.outcome} in ${(run.durationMs / 1000).toFixed(1)} s, ${run.summary}`;
    }
  }
}

export const registerAgentCommand: CommandRegistrar = (program, context) => {
  program
    .command('agent')
    .description('run the scheduler without a window: takes the cluster lease when free, runs due and missed jobs, one line per run; stops cleanly on SIGTERM or Ctrl-C')
    .addOption(profileOption())
    .addOption(
      new Option('--lease-ttl <seconds>', 'how long the lease outlives a crashed agent; renewed every third of it')
        .argParser(parseLeaseTtl)
        .default(DEFAULT_LEASE_TTL_MS / 1000),
    )
    .addOption(metricsPortOption())
    .action(async (options: { profile?: string; leaseTtl: number; metricsPort?: number }) => {
      const log = context.logger.scope('agent');
      const say = (line: string) => {
        log.info(line);
        process.stdout.write(`${new Date().toISOString()} ${line}\n`);
      };
      const stopped = nextStopSignal();
      const profile = await loadProfile(options.profile);
      const services = createServices({
        profile,
        secrets: new EnvSecretResolver(),
        logger: context.logger,
        scheduler: { lease: { ttlMs: Math.round(options.leaseTtl * 1000) } },
      });
      const metrics = options.metricsPort === undefined ? undefined : await startMetricsServer(services, { port: options.metricsPort, log }).catch(async (error: unknown) => {
        await services.dispose();
        throw error;
      });
      try {
        services.scheduler.onEvent((event) => say(formatSchedulerEvent(event)));
        say(`agent for ${profile.name ?? 'cluster'} starting on ${context.host} pid ${process.pid}`);
        if (metrics) say(`Prometheus metrics at ${metrics.url}`);
        await services.scheduler.start();
        services.monitor.start();
        if (!services.scheduler.holding()) {
          const holder = await services.lease.status().then(
            (status) => (status.holder ? `${status.holder.host} pid ${status.holder.pid} holds the lease (token ${status.holder.token})` : 'the lease is not available yet'),
            (error: unknown) => (error instanceof Error ? error.message : String(error)),
          );
          say(`standing by: ${holder}; retrying`);
        }
        say('agent running; SIGTERM or Ctrl-C stops it');
        const signal = await stopped;
        say(`${signal}: stopping the schedules, letting the current window finish or abandon, releasing the lease`);
        await services.monitor.stop();
        await services.scheduler.stop();
      } finally {
        await metrics?.dispose();
        await services.dispose();
      }
      say('agent stopped');
    });
};
