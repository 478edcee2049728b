import { Command, Help } from 'commander';
import type { CliContext, CommandRegistrar } from './context';

/** Imports one command module and hands back its registrar; only the command that runs pays for its imports. */
type RegistrarLoader = () => Promise<CommandRegistrar>;

/** One top-level command as `strata --help` lists it, and where its full definition lives. */
export interface CommandEntry {
  name: string;
  /** The command as the help lists it: its name, then `[options]` and its arguments if it has any. */
  term: string;
  description: string;
  load: RegistrarLoader;
}

const alerts: RegistrarLoader = () =>
  import('./commands/alerts').then((module) => (program, context) => {
    module.registerAlertsCommand(program, context);
    module.registerCheckCommand(program, context);
  });
const retention: RegistrarLoader = () => import('./commands/retention').then((module) => module.registerRetentionCommands);

/**
 * Every command in the order a DBA meets them in --help: look, set up, roll up, schedule, serve. The terms and
 * descriptions repeat the modules' own so that `--help` loads none of them; test/unit/cli-program.test.ts checks
 * that they match.
 */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'status',
    term: 'status [options]',
    description: 'reachability, version, latency and table sizes of every shard and Redis; exits 0 only when all is healthy',
    load: () => import('./commands/status').then((module) => module.registerStatusCommand),
  },
  {
    name: 'sandbox',
    term: 'sandbox',
    description: 'a local cluster of real MariaDB/MySQL shards and Redis, for trying Strata out and for tests',
    load: () => import('./commands/sandbox').then((module) => module.registerSandboxCommand),
  },
  {
    name: 'schema',
    term: 'schema',
    description: 'versioned migrations and drift check of the Strata tables on every shard',
    load: () => import('./commands/schema').then((module) => module.registerSchemaCommand),
  },
  {
    name: 'partitions',
    term: 'partitions',
    description: 'list the partitions of the analytics tables and add the future ones on every shard',
    load: () => import('./commands/partitions').then((module) => module.registerPartitionsCommand),
  },
  {
    name: 'generate',
    term: 'generate [options]',
    description: 'insert exactly N synthetic page views into analytics_realtime, each on the shard that owns its site',
    load: () => import('./commands/generate').then((module) => module.registerGenerateCommand),
  },
  {
    name: 'rollup',
    term: 'rollup [options]',
    description: 'roll raw page views up into hourly, daily or monthly rows: the due windows, or exactly the windows covering --from/--to',
    load: () => import('./commands/rollup').then((module) => module.registerRollupCommand),
  },
  {
    name: 'backfill',
    term: 'backfill [options]',
    description: 'recompute a range of rollup windows window by window (with --cascade, the days and months above them too); resumable',
    load: () => import('./commands/backfill').then((module) => module.registerBackfillCommand),
  },
  {
    name: 'reconcile',
    term: 'reconcile [options]',
    description: 'compare page views of raw, hourly, daily and monthly over what retention holds; re-roll the windows that differ and the levels above them',
    load: () => import('./commands/reconcile').then((module) => module.registerReconcileCommand),
  },
  {
    name: 'backup',
    term: 'backup',
    description: 'back up every shard with mysqldump/mariadb-dump into compressed, checksummed sets; list, cancel, verify, restore and prune them',
    load: () => import('./commands/backup').then((module) => module.registerBackupCommand),
  },
  {
    name: 'retention',
    term: 'retention',
    description: 'show or change how long each analytics table keeps its rows; list the last prune runs',
    load: retention,
  },
  {
    name: 'prune',
    term: 'prune [options]',
    description: 'drop expired partitions and delete expired rows in bounded batches; never what the next level has not rolled up or does not reconcile',
    load: retention,
  },
  {
    name: 'runs',
    term: 'runs [options]',
    description: 'the latest rollup windows run on every shard, newest first: level, window, trigger, outcome, rows, duration, host',
    load: () => import('./commands/runs').then((module) => module.registerRunsCommand),
  },
  {
    name: 'schedules',
    term: 'schedules',
    description: "the scheduler's jobs and their cron schedules (UTC), stored on shard 0",
    load: () => import('./commands/schedules').then((module) => module.registerSchedulesCommand),
  },
  {
    name: 'lease',
    term: 'lease [options]',
    description: 'which scheduler (agent or console) holds the cluster lease, and its fencing token',
    load: () => import('./commands/lease').then((module) => module.registerLeaseCommand),
  },
  {
    name: 'activity',
    term: 'activity [options]',
    description: 'which jobs (backup, prune, partition maintenance, conversion) run on which shard now; conflicting jobs skip that shard',
    load: () => import('./commands/activity').then((module) => module.registerActivityCommand),
  },
  {
    name: 'audit',
    term: 'audit [options]',
    description: 'the audit log of the cluster, newest first: who changed what, from which host, when, with the details',
    load: () => import('./commands/audit').then((module) => module.registerAuditCommand),
  },
  {
    name: 'advise',
    term: 'advise [options]',
    description: "each shard's settings (buffer pool, redo log, flush at commit, query cache), indexes and partitioning against the recommended my.cnf and schema, with the statement that fixes each finding",
    load: () => import('./commands/advise').then((module) => module.registerAdviseCommand),
  },
  {
    name: 'monitor',
    term: 'monitor [options]',
    description: 'one probe cycle now: latency, chart queries, server status, host CPU/memory, Redis, queue, watermark lag, with their targets; exits 1 when a shard is unreachable',
    load: () => import('./commands/monitor').then((module) => module.registerMonitorCommand),
  },
  {
    name: 'traffic',
    term: 'traffic [options]',
    description: "a traffic chart (page views, visitors) of one site, the top sites or the cluster, from the table the application would read, with the windows not rolled up yet marked provisional; exits 1 when a shard did not answer",
    load: () => import('./commands/traffic').then((module) => module.registerTrafficCommand),
  },
  {
    name: 'alerts',
    term: 'alerts',
    description: 'alert states, rules, silences, acknowledgements, history and webhook deliveries',
    load: alerts,
  },
  {
    name: 'check',
    term: 'check [options]',
    description: 'for cron and Nagios-style checkers: exit 0 when nothing fires, 1 when a warning fires, 2 when a critical alert fires, 3 when the states cannot be read',
    load: alerts,
  },
  {
    name: 'cache',
    term: 'cache',
    description: "the application's Redis chart cache: hit ratio, memory, evictions and keys; invalidate a site, a range or all (Strata never writes these keys)",
    load: () => import('./commands/cache').then((module) => module.registerCacheCommand),
  },
  {
    name: 'agent',
    term: 'agent [options]',
    description: 'run the scheduler without a window: takes the cluster lease when free, runs due and missed jobs, one line per run; stops cleanly on SIGTERM or Ctrl-C',
    load: () => import('./commands/agent').then((module) => module.registerAgentCommand),
  },
  {
    name: 'console',
    term: 'console [options]',
    description: 'serve the operations console to a browser on 127.0.0.1 (tests and demos); runs until Ctrl-C',
    load: () => import('./commands/console').then((module) => module.registerConsoleCommand),
  },
  {
    name: 'demo',
    term: 'demo [options]',
    description: 'start a local sandbox cluster, fill it with 10 days of synthetic traffic rolled up, and serve the console',
    load: () => import('./commands/demo').then((module) => module.registerDemoCommand),
  },
];

/** The help term of each command that is only listed, not loaded. */
const listedTerms = new WeakMap<Command, string>();

/** The bare `strata` command: name, version, help and error behaviour, no subcommands yet. */
export function createRootCommand(): Command {
  return new Command('strata')
    .description('Operations console for a sharded MySQL web-analytics cluster')
    .version('0.1.0')
    // A usage mistake gets one line and a pointer, not the whole usage: errors stay readable in scripts' logs.
    .showHelpAfterError('(add --help for the usage)')
    .exitOverride()
    .configureHelp({
      subcommandTerm(this: Help, command: Command) {
        return listedTerms.get(command) ?? Help.prototype.subcommandTerm.call(this, command);
      },
    });
}

/** The command the arguments run (`strata status …`, `strata help status`), if they name one. */
export function commandNamedBy(args: readonly string[]): CommandEntry | undefined {
  const operands = args.filter((arg) => !arg.startsWith('-'));
  const name = operands[0] === 'help' ? operands[1] : operands[0];
  return COMMANDS.find((entry) => entry.name === name);
}

/**
 * The program for these arguments: the command they name is registered in full (with the context, built only
 * then), every other one as a name and description that is enough for `--help`, a typo's suggestion and
 * `help [command]`'s listing.
 */
export async function buildProgram(args: readonly string[], createContext: () => Promise<CliContext>): Promise<{ program: Command; context?: CliContext }> {
  const program = createRootCommand();
  const named = commandNamedBy(args);
  if (!named) {
    for (const entry of COMMANDS) listCommand(program, entry);
    return { program };
  }
  const [context, register] = await Promise.all([createContext(), named.load()]);
  let registered = false;
  for (const entry of COMMANDS) {
    if (entry.load !== named.load) listCommand(program, entry);
    else if (!registered) {
      register(program, context);
      registered = true;
    }
  }
  return { program, context };
}

/** Registers every command in full, as `strata` did before it loaded commands on demand (tests compare the two). */
export async function buildFullProgram(context: CliContext): Promise<Command> {
  const program = createRootCommand();
  const registrars = [...new Set(COMMANDS.map((entry) => entry.load))];
  for (const register of await Promise.all(registrars.map((load) => load()))) register(program, context);
  return program;
}

function listCommand(program: Command, entry: CommandEntry): void {
  listedTerms.set(program.command(entry.name).description(entry.description), entry.term);
}
