import { Option } from 'commander';
import type { ActivityRecord } from '../../main/conflicts/rules';
import { jsonOption, profileOption, type CommandRegistrar } from '../context';
import { parseShardList } from './schema';

export interface ShardActivityReport {
  checkedAt: string;
  shards: Array<{ index: number; name: string; running: ActivityRecord[] }>;
}

export function formatActivityReport(report: ShardActivityReport): string {
  const lines: string[] = [];
  for (const shard of report.shards) {
    const name = shard.name.padEnd(10);
    if (shard.running.length === 0) lines.push(`${name} nothing running`);
    shard.running.forEach((record, position) => {
      const since = record.startedAt.replace(/\.\d+Z$/, 'Z');
      const detail = record.detail ? `  ${record.detail}` : '';
      lines.push(`${position === 0 ? name : ' '.repeat(name.length)} ${record.kind.padEnd(11)} since ${since} on ${record.host} pid ${record.pid}${detail}`);
    });
  }
  return lines.join('\n');
}

export const registerActivityCommand: CommandRegistrar = (program, context) => {
  program
    .command('activity')
    .description('which jobs (backup, prune, partition maintenance, conversion) run on which shard now; conflicting jobs skip that shard')
    .addOption(profileOption())
    .addOption(jsonOption())
    .addOption(new Option('--shards <list>', 'only these shard indexes, such as 0,2').argParser(parseShardList))
    .action(async (options: { profile?: string; json?: boolean; shards?: number[] }) => {
      const report = await context.withServices(options.profile, async (services): Promise<ShardActivityReport> => {
        const targets = (options.shards ?? services.connections.shards.map((handle) => handle.index)).map((index) => services.connections.shard(index));
        const running = await services.activities.running();
        return {
          checkedAt: new Date().toISOString(),
          shards: targets.map((handle) => ({ index: handle.index, name: handle.label, running: running.filter((record) => record.shard === handle.index) })),
        };
      });
      context.print(options.json, report, () => formatActivityReport(report));
    });
};
