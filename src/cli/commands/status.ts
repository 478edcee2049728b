import type { ClusterStatus } from '../../shared/contract';
import { formatBytes } from '../../shared/format';
import { jsonOption, profileOption, reportPartial, type CommandRegistrar } from '../context';

export function formatStatus(status: ClusterStatus): string {
  const lines = [`${status.profileName}: ${status.healthy ? 'healthy' : 'NOT HEALTHY'} (checked ${status.checkedAt})`];
  for (const shard of status.shards) {
    const where = `${shard.host}:${shard.port}/${shard.database}`;
    if (!shard.reachable) {
      lines.push(`  ${shard.name.padEnd(10)} DOWN  ${where}  ${shard.problem?.message ?? ''}`);
      continue;
    }
    lines.push(
      `  ${shard.name.padEnd(10)} up    ${where}  ${shard.serverVersion ?? '?'}  ${shard.latencyMs?.toFixed(1)} ms  ${shard.tls ?? 'no TLS'}  schema v${shard.schemaVersion ?? '-'}`,
    );
    for (const table of shard.tables) {
      lines.push(`      ${table.table.padEnd(22)} ~${table.estimatedRows.toLocaleString('en-US')} rows  ${formatBytes(table.dataBytes + table.indexBytes)}`);
    }
  }
  const redis = status.redis;
  lines.push(
    redis.reachable
      ? `  ${'redis'.padEnd(10)} up    ${redis.url}  ${redis.serverVersion ?? '?'}  ${redis.latencyMs?.toFixed(1)} ms  ${redis.tls ?? 'no TLS'}  ${formatBytes(redis.usedMemoryBytes ?? 0)} used`
      : `  ${'redis'.padEnd(10)} DOWN  ${redis.url}  ${redis.problem?.message ?? ''}`,
  );
  for (const warning of status.warnings) lines.push(`  warning: ${warning}`);
  return lines.join('\n');
}

export const registerStatusCommand: CommandRegistrar = (program, context) => {
  program
    .command('status')
    .description('reachability, version, latency and table sizes of every shard and Redis; exits 0 only when all is healthy')
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: { profile?: string; json?: boolean }) => {
      const status = await context.withServices(options.profile, (services) => services.status.get());
      context.print(options.json, status, () => formatStatus(status));
      context.setExitCode(status.healthy ? 0 : 1);
      reportPartial(context, 'the status', status.shards.filter((shard) => !shard.reachable).map((shard) => ({ shardName: shard.name, problem: shard.problem })));
    });
};
