import { Option } from 'commander';
import { SandboxManager } from '../../main/sandbox/sandbox';
import { parseWholeNumber } from './sandbox';
import { serveConsole } from './console';
import type { CommandRegistrar } from '../context';

const HOUR_MS = 3_600_000;

export const registerDemoCommand: CommandRegistrar = (program, context) => {
  program
    .command('demo')
    .description('start a local sandbox cluster, fill it with a day of synthetic traffic, and serve the console')
    .addOption(new Option('--dir <dir>', 'sandbox folder').default('.strata-demo'))
    .addOption(new Option('--shards <n>', 'number of shard servers').argParser(parseWholeNumber('--shards')).default(2))
    .addOption(new Option('--views <n>', 'page views to generate for the last 24 hours').argParser(parseWholeNumber('--views')).default(500_000))
    .addOption(new Option('--sites <n>', 'number of sites').argParser(parseWholeNumber('--sites')).default(500))
    .addOption(new Option('--port <port>', 'console port on 127.0.0.1 (default: any free port)').argParser(parseWholeNumber('--port')))
    .action(async (options: { dir: string; shards: number; views: number; sites: number; port?: number }) => {
      const say = (message: string) => process.stdout.write(`${message}\n`);
      say(`starting a ${options.shards}-shard sandbox in ${options.dir}`);
      const info = await new SandboxManager(context.logger.scope('sandbox')).up({ dir: options.dir, shards: options.shards, onProgress: (step) => say(`  ${step}`) });
      await context.withServices(info.profilePath, async (services) => {
        const schema = await services.schema.apply();
        if (!schema.ok) say('  warning: the schema could not be applied on every shard; see strata schema apply');
        const rows = await services.connections.query<Array<{ n: number }>>(0, 'SELECT COUNT(*) AS n FROM analytics_realtime');
        if (info.restarted && Number(rows[0]?.n ?? 0) > 0) {
          say('  the sandbox already holds traffic; not generating more');
        } else {
          const to = new Date(Math.floor(Date.now() / HOUR_MS) * HOUR_MS);
          const from = new Date(to.getTime() - 24 * HOUR_MS);
          say(`  generating ${options.views.toLocaleString('en-US')} page views over ${options.sites} sites, ${from.toISOString()} to ${to.toISOString()}`);
          const summary = await services.generator.run({ from: from.toISOString(), to: to.toISOString(), sites: options.sites, views: options.views, seed: 1 });
          say(`  ${summary.rows.toLocaleString('en-US')} rows in ${summary.seconds.toFixed(1)} s (${Math.round(summary.rowsPerSecond).toLocaleString('en-US')} rows/s)`);
        }
        say(`profile: ${info.profilePath}  (try: npx strata status --profile ${info.profilePath})`);
        say(`stop the servers later with: npx strata sandbox down --dir ${options.dir}`);
        await serveConsole(services, context, options.port);
      });
    });
};
