import { Option } from 'commander';
import { jsonOption, type CommandRegistrar } from '../context';
import { wholeNumberOption } from '../input';
import { SandboxManager } from '../../main/sandbox/sandbox';

/** A whole-number option or argument; a bad value is refused in one coded line (exit 2). */
export function parseWholeNumber(label: string) {
  return wholeNumberOption(label);
}

const dirOption = () => new Option('--dir <dir>', 'folder that holds the sandbox').makeOptionMandatory();

export const registerSandboxCommand: CommandRegistrar = (program, context) => {
  const sandbox = program.command('sandbox').description('a local cluster of real MariaDB/MySQL shards and Redis, for trying Strata out and for tests');
  const manager = () => new SandboxManager(context.logger.scope('sandbox'));

  sandbox
    .command('up')
    .description('initialise (or restart) N shard servers and Redis on loopback under DIR, apply the schema, write DIR/profile.json')
    .addOption(dirOption())
    .addOption(new Option('--shards <n>', 'number of shard servers').argParser(parseWholeNumber('--shards')).default(2))
    .addOption(new Option('--base-port <port>', 'first port (default: free ports chosen at random)').argParser(parseWholeNumber('--base-port')))
    .addOption(jsonOption())
    .action(async (options: { dir: string; shards: number; basePort?: number; json?: boolean }) => {
      const progress = options.json ? undefined : (message: string) => process.stderr.write(`${message}…\n`);
      const info = await manager().up({ dir: options.dir, shards: options.shards, basePort: options.basePort, onProgress: progress });
      progress?.('applying the schema');
      const schema = await context.withServices(info.profilePath, (services) => services.schema.apply());
      if (!schema.ok) context.setExitCode(1);
      context.print(options.json, { ...info, schema }, () =>
        [
          `${info.restarted ? 'restarted' : 'started'} ${info.shardPorts.length} shards on ports ${info.shardPorts.join(', ')} and redis on ${info.redisPort}`,
          schema.ok ? 'schema up to date on every shard' : 'schema apply FAILED on some shards: run strata schema apply for details',
          `profile: ${info.profilePath}`,
        ].join('\n'),
      );
    });

  sandbox
    .command('down')
    .description('stop the sandbox servers under DIR cleanly (their data stays for the next up)')
    .addOption(dirOption())
    .addOption(jsonOption())
    .action(async (options: { dir: string; json?: boolean }) => {
      const result = await manager().down(options.dir);
      context.print(options.json, result, () => `stopped ${result.stopped} server processes`);
    });

  for (const [verb, description] of [
    ['stop-shard', 'stop one shard server, as an outage would (for drills)'],
    ['start-shard', 'start one stopped shard server again'],
  ] as const) {
    sandbox
      .command(verb)
      .description(description)
      .argument('<index>', 'shard index', parseWholeNumber('index'))
      .addOption(dirOption())
      .action(async (index: number, options: { dir: string }) => {
        if (verb === 'stop-shard') await manager().stopShard(options.dir, index);
        else await manager().startShard(options.dir, index);
        context.print(false, null, () => `shard${index} ${verb === 'stop-shard' ? 'stopped' : 'started'}`);
      });
  }
};
