import type { LeaseStatus } from '../../shared/schedule';
import { jsonOption, profileOption, type CommandRegistrar } from '../context';

export function formatLeaseStatus(status: LeaseStatus): string {
  const holder = status.holder;
  if (!status.held) return `${status.key}: free, no scheduler holds it (last fencing token ${status.lastToken})`;
  if (!holder) return `${status.key}: held by something that is not a Strata scheduler (unreadable value)`;
  const expires = status.expiresInMs === undefined ? '' : `, lapses in ${(status.expiresInMs / 1000).toFixed(1)} s unless renewed`;
  return `${status.key}: held by ${holder.host} pid ${holder.pid} (id ${holder.id}) since ${holder.acquiredAt}, fencing token ${holder.token}${expires}`;
}

export const registerLeaseCommand: CommandRegistrar = (program, context) => {
  program
    .command('lease')
    .description('which scheduler (agent or console) holds the cluster lease, and its fencing token')
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: { profile?: string; json?: boolean }) => {
      const status = await context.withServices(options.profile, (services) => services.lease.status());
      context.print(options.json, status, () => formatLeaseStatus(status));
    });
};
