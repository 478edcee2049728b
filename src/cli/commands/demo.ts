import { Option } from 'commander';
import { DEFAULT_DEMO_DAYS, DEMO_HISTORY_TABLES, firstPartitionStart, planDemoHistory, type DemoHistoryPlan } from '../../main/sandbox/demo-planner';
import { SandboxManager } from '../../main/sandbox/sandbox';
import type { StrataServices } from '../../main/services';
import { parseWholeNumber } from './sandbox';
import { serveConsole } from './console';
import type { CommandRegistrar } from '../context';
import { wholeNumberOption } from '../input';

export type Say = (message: string) => void;
const count = (value: number) => value.toLocaleString('en-US');
const MAX_DEMO_DAYS = 365;

const parseDays = wholeNumberOption('--days', { min: 1, max: MAX_DEMO_DAYS });

/** Splits the first partition of the raw and hourly tables so the history has partitions of its own (audited). */
async function addHistoryPartitions(services: StrataServices, from: Date, say: Say): Promise<void> {
  const listed = await services.partitions.list();
  for (const table of DEMO_HISTORY_TABLES) {
    const starts = listed.shards.map((shard) => firstPartitionStart(table, shard.tables.find((entry) => entry.table === table)?.partitions ?? []));
    if (starts.some((start) => start === undefined)) {
      say(`  warning: ${table} is not partitioned on every shard; its history stays in the first partition`);
      continue;
    }
    const earliest = new Date(Math.min(...starts.map((start) => start!.getTime())));
    if (earliest <= from) continue;
    const report = await services.partitions.addHistory({ table, from, to: earliest });
    const added = report.shards.reduce((total, shard) => total + shard.statements.filter((statement) => statement.ok).length, 0);
    say(`  ${table}: history partitions from ${from.toISOString()} on ${added} shard(s)${report.ok ? '' : '; warning: not on every shard, see strata partitions list'}`);
  }
}

/** Rolls the history up level by level, as `strata rollup --from --to` would after an import. */
async function rollUpHistory(services: StrataServices, plan: DemoHistoryPlan, say: Say): Promise<void> {
  for (const range of plan.rollups) {
    const report = await services.rollup.runRange(range.level, range.from, range.to, { trigger: 'manual' });
    const windows = report.shards.flatMap((shard) => shard.windows);
    const written = windows.reduce((total, window) => total + window.rowsWritten, 0);
    say(`  ${range.level} rollup ${range.from.toISOString()} to ${range.to.toISOString()}: ${count(windows.length)} windows, ${count(written)} rows${report.ok ? '' : '; warning: not every window succeeded, see strata runs'}`);
  }
}

/** Fills an empty cluster with the plan's history: partitions for it, the page views, then their rollups. */
export async function seedDemoHistory(services: StrataServices, plan: DemoHistoryPlan, traffic: { views: number; sites: number }, say: Say): Promise<void> {
  await addHistoryPartitions(services, plan.from, say);
  say(`  generating ${count(traffic.views)} page views over ${traffic.sites} sites, ${plan.from.toISOString()} to ${plan.to.toISOString()}`);
  const summary = await services.generator.run({ from: plan.from.toISOString(), to: plan.to.toISOString(), sites: traffic.sites, views: traffic.views, seed: 1 });
  say(`  ${count(summary.rows)} rows in ${summary.seconds.toFixed(1)} s (${count(Math.round(summary.rowsPerSecond))} rows/s)`);
  await rollUpHistory(services, plan, say);
}

export const registerDemoCommand: CommandRegistrar = (program, context) => {
  program
    .command('demo')
    .description(`start a local sandbox cluster, fill it with ${DEFAULT_DEMO_DAYS} days of synthetic traffic rolled up, and serve the console`)
    .addOption(new Option('--dir <dir>', 'sandbox folder').default('.strata-demo'))
    .addOption(new Option('--shards <n>', 'number of shard servers').argParser(parseWholeNumber('--shards')).default(2))
    .addOption(new Option('--days <n>', 'whole days of history before today').argParser(parseDays).default(DEFAULT_DEMO_DAYS))
    .addOption(new Option('--views <n>', 'page views to generate over the whole history').argParser(parseWholeNumber('--views')).default(1_000_000))
    .addOption(new Option('--sites <n>', 'number of sites').argParser(parseWholeNumber('--sites')).default(500))
    .addOption(new Option('--port <port>', 'console port on 127.0.0.1 (default: any free port)').argParser(wholeNumberOption('--port', { min: 1, max: 65535, what: 'a port number' })))
    .action(async (options: { dir: string; shards: number; days: number; views: number; sites: number; port?: number }) => {
      const say: Say = (message) => process.stdout.write(`${message}\n`);
      // Checked before anything starts, like every other option error.
      const plan = planDemoHistory(new Date(), options.days);
      say(`starting a ${options.shards}-shard sandbox in ${options.dir}`);
      const info = await new SandboxManager(context.logger.scope('sandbox')).up({ dir: options.dir, shards: options.shards, onProgress: (step) => say(`  ${step}`) });
      await context.withServices(info.profilePath, async (services) => {
        const schema = await services.schema.apply();
        if (!schema.ok) say('  warning: the schema could not be applied on every shard; see strata schema apply');
        const rows = await services.connections.query<Array<{ n: number }>>(0, 'SELECT COUNT(*) AS n FROM analytics_realtime');
        if (info.restarted && Number(rows[0]?.n ?? 0) > 0) {
          say('  the sandbox already holds traffic; not generating more');
        } else {
          await seedDemoHistory(services, plan, options, say);
        }
        say(`profile: ${info.profilePath}  (try: npx strata status --profile ${info.profilePath})`);
        say(`stop the servers later with: npx strata sandbox down --dir ${options.dir}`);
        await serveConsole(services, context, options.port);
      });
    });
};
