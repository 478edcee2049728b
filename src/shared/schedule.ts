import { z } from 'zod';
import type { RunTrigger } from './rollup';

/**
 * Scheduled jobs, their default cron expressions (UTC) and the cluster lease that lets one scheduler act at a time.
 * Pure TypeScript: the console shows these, the main process validates cron with node-cron.
 */

export interface ScheduledJobDefinition {
  job: string;
  /** Five or six fields, read in UTC. */
  defaultCron: string;
  description: string;
}

/**
 * Every job the scheduler knows, in the order catch-up runs them (finer levels first, so coarser ones see them).
 * Adding a job (pruning, partition maintenance) is one entry here plus its handler in the composition root.
 */
export const SCHEDULED_JOBS = [
  { job: 'rollup-hourly', defaultCron: '0 * * * *', description: 'roll raw page views up into hours' },
  { job: 'rollup-daily', defaultCron: '0 2 * * *', description: 'roll hours up into days' },
  { job: 'rollup-monthly', defaultCron: '0 3 1 * *', description: 'roll days up into months' },
  { job: 'reconcile', defaultCron: '30 2 * * *', description: 'compare each level with its source and re-roll the windows late rows changed' },
  { job: 'maintenance', defaultCron: '0 4 * * *', description: 'add future partitions, then prune what retention lets go' },
  { job: 'backup', defaultCron: '0 1 * * *', description: 'back up every shard, then remove the sets backup retention lets go' },
] as const satisfies readonly ScheduledJobDefinition[];

export type JobName = (typeof SCHEDULED_JOBS)[number]['job'];

export const JOB_NAMES = SCHEDULED_JOBS.map((definition) => definition.job) as [JobName, ...JobName[]];

export function isJobName(name: string): name is JobName {
  return (JOB_NAMES as readonly string[]).includes(name);
}

export function jobDefinition(job: JobName): ScheduledJobDefinition {
  const definition = SCHEDULED_JOBS.find((candidate) => candidate.job === job);
  if (!definition) throw new RangeError(`unknown job ${job}`);
  return definition;
}

/** Longest cron text the schedules table stores. */
export const MAX_CRON_LENGTH = 100;

export const scheduleEntrySchema = z.object({
  job: z.enum(JOB_NAMES),
  cron: z.string(),
  enabled: z.boolean(),
  /** True while nobody has changed this job's schedule: it follows the built-in default. */
  isDefault: z.boolean(),
  defaultCron: z.string(),
  /** The next three instants the cron expression matches, ISO-8601 UTC (whether or not the job is enabled). */
  nextRuns: z.array(z.string()),
  /** `user@host` of the last change; absent for defaults. */
  changedBy: z.string().optional(),
  changedAt: z.string().optional(),
});

export const scheduleListSchema = z.object({ schedules: z.array(scheduleEntrySchema) });

export const scheduleSetRequestSchema = z
  .strictObject({
    job: z.enum(JOB_NAMES),
    cron: z.string().trim().min(1).max(MAX_CRON_LENGTH).optional(),
    enabled: z.boolean().optional(),
  })
  .refine((request) => request.cron !== undefined || request.enabled !== undefined, { message: 'give a cron expression, enabled, or both' });

export const leaseHolderSchema = z.object({
  /** Random per scheduler instance, so two agents on one host and pid namespace are still told apart. */
  id: z.string(),
  host: z.string(),
  pid: z.number().int(),
  acquiredAt: z.string(),
  /** The fencing token taken with this lease; watermarks refuse writes carrying an older one. */
  token: z.number().int().nonnegative(),
});

export const leaseStatusSchema = z.object({
  key: z.string(),
  held: z.boolean(),
  holder: leaseHolderSchema.optional(),
  /** Time left before the lease lapses unless its holder renews it. */
  expiresInMs: z.number().int().nonnegative().optional(),
  /** The highest fencing token ever handed out for this cluster (0 when none). */
  lastToken: z.number().int().nonnegative(),
});

export type ScheduleEntry = z.infer<typeof scheduleEntrySchema>;
export type ScheduleList = z.infer<typeof scheduleListSchema>;
export type ScheduleSetRequest = z.infer<typeof scheduleSetRequestSchema>;
export type LeaseHolder = z.infer<typeof leaseHolderSchema>;
export type LeaseStatus = z.infer<typeof leaseStatusSchema>;
export type { RunTrigger };
