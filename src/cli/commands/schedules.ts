import { Option } from 'commander';
import { ErrorCode, StrataError } from '../../shared/errors';
import type { ScheduleEntry, ScheduleList } from '../../shared/schedule';
import { assertJobName, assertValidCron } from '../../main/scheduler/planner';
import { jsonOption, profileOption, type CommandRegistrar } from '../context';

/** `2025-03-01 02:00` in UTC: the precision a cron schedule has. */
function minuteUtc(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

function changedText(entry: ScheduleEntry): string {
  if (entry.isDefault) return 'default';
  return `${entry.changedBy ?? '?'} at ${entry.changedAt ? minuteUtc(entry.changedAt) : '?'}`;
}

export function formatScheduleEntry(entry: ScheduleEntry): string {
  const next = entry.enabled ? entry.nextRuns.map(minuteUtc).join(', ') : '(disabled)';
  return `${entry.job.padEnd(16)}${entry.cron.padEnd(16)}${(entry.enabled ? 'yes' : 'no').padEnd(9)}${next.padEnd(54)}${changedText(entry)}`;
}

export function formatScheduleList(list: ScheduleList): string {
  const header = `${'JOB'.padEnd(16)}${'CRON (UTC)'.padEnd(16)}${'ENABLED'.padEnd(9)}${'NEXT RUNS (UTC)'.padEnd(54)}CHANGED`;
  return [header, ...list.schedules.map(formatScheduleEntry)].join('\n');
}

export const registerSchedulesCommand: CommandRegistrar = (program, context) => {
  const schedules = program.command('schedules').description("the scheduler's jobs and their cron schedules (UTC), stored on shard 0");

  schedules
    .command('list')
    .description('every job with its cron expression, whether it is enabled, its next 3 runs, and who changed it when')
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: { profile?: string; json?: boolean }) => {
      const list = await context.withServices(options.profile, (services) => services.scheduler.list());
      context.print(options.json, list, () => formatScheduleList(list));
    });

  schedules
    .command('set')
    .description('change when a job runs, or enable/disable it; the change is validated and written to the audit log')
    .argument('<job>', 'job name, such as rollup-daily')
    .argument('[cron]', 'cron expression read in UTC, such as "0 2 * * *" (five fields, or six with seconds)')
    .addOption(new Option('--enable', 'run the job on its schedule'))
    .addOption(new Option('--disable', 'stop running the job on its schedule').conflicts('enable'))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (job: string, cron: string | undefined, options: { enable?: boolean; disable?: boolean; profile?: string; json?: boolean }) => {
      // Refused before the profile is read, so bad input never reaches the cluster.
      assertJobName(job);
      if (cron !== undefined) assertValidCron(cron);
      const enabled = options.enable ? true : options.disable ? false : undefined;
      if (cron === undefined && enabled === undefined) {
        throw new StrataError(ErrorCode.InvalidInput, `nothing to change for ${job}: give a cron expression, --enable or --disable`);
      }
      const entry = await context.withServices(options.profile, (services) => services.scheduler.set({ job, cron, enabled }));
      context.print(options.json, entry, () => formatScheduleEntry(entry));
    });
};
