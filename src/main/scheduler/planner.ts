import { createTask, validateDetailed } from 'node-cron';
import { ErrorCode, StrataError } from '../../shared/errors';
import { isJobName, JOB_NAMES, MAX_CRON_LENGTH, SCHEDULED_JOBS, type JobName, type ScheduleEntry } from '../../shared/schedule';

/** Every cron expression is read in UTC, whatever the time zone of the machine running the scheduler. */
export const SCHEDULE_TIME_ZONE = 'UTC';

/** Where schedules live: one table on the control shard. */
export const SCHEDULES_TABLE = 'strata_schedules';

/** A row of strata_schedules; a job without a row follows its default. */
export interface StoredSchedule {
  job: string;
  cron: string;
  enabled: boolean | number;
  updated_at: Date | null;
  updated_by: string | null;
}

/** The schedule a scheduler acts on, before next-run times are worked out. */
export interface EffectiveSchedule {
  job: JobName;
  cron: string;
  enabled: boolean;
  isDefault: boolean;
  defaultCron: string;
  changedBy?: string;
  changedAt?: string;
}

/** Why a cron expression is refused, in one line, or undefined when it is valid. */
export function cronProblem(cron: string): string | undefined {
  if (cron.trim() === '') return 'the cron expression is empty';
  if (cron.length > MAX_CRON_LENGTH) return `the cron expression is longer than ${MAX_CRON_LENGTH} characters`;
  const { valid, errors } = validateDetailed(cron);
  if (valid) return undefined;
  return errors.map((error) => (error.field === 'expression' ? error.message : `${error.field}: ${error.message}`)).join('; ');
}

/** Throws a coded error naming the problem unless `cron` is a valid five- or six-field expression. */
export function assertValidCron(cron: string): void {
  const problem = cronProblem(cron);
  if (problem) throw new StrataError(ErrorCode.ScheduleInvalidCron, `invalid cron expression "${cron}": ${problem} (five fields, minute hour day-of-month month day-of-week, read in UTC)`);
}

export function assertJobName(job: string): asserts job is JobName {
  if (!isJobName(job)) throw new StrataError(ErrorCode.ScheduleUnknownJob, `unknown job ${job}; the jobs are ${JOB_NAMES.join(', ')}`);
}

/** Stored rows over the built-in defaults, in the order of SCHEDULED_JOBS; rows of unknown jobs are ignored. */
export function effectiveSchedules(rows: readonly StoredSchedule[]): EffectiveSchedule[] {
  const byJob = new Map(rows.map((row) => [row.job, row]));
  return SCHEDULED_JOBS.map(({ job, defaultCron }) => {
    const row = byJob.get(job);
    if (!row) return { job, cron: defaultCron, enabled: true, isDefault: true, defaultCron };
    return {
      job,
      cron: row.cron,
      enabled: Boolean(Number(row.enabled)),
      isDefault: false,
      defaultCron,
      changedBy: row.updated_by ?? undefined,
      changedAt: row.updated_at ? row.updated_at.toISOString() : undefined,
    };
  });
}

/** The next `count` instants `cron` matches after the current time; empty for an expression that never matches. */
export function nextRuns(cron: string, count = 3): Date[] {
  try {
    const task = createTask(cron, () => {}, { timezone: SCHEDULE_TIME_ZONE });
    try {
      return task.getNextRuns(count);
    } finally {
      void task.destroy();
    }
  } catch {
    return [];
  }
}

export function withNextRuns(schedule: EffectiveSchedule, count = 3): ScheduleEntry {
  return { ...schedule, nextRuns: nextRuns(schedule.cron, count).map((date) => date.toISOString()) };
}

/** What `schedules set` changes: the new cron and enabled flag, from the current schedule and the request. */
export function applyChange(current: EffectiveSchedule, change: { cron?: string; enabled?: boolean }): { cron: string; enabled: boolean } {
  return { cron: change.cron?.trim() ?? current.cron, enabled: change.enabled ?? current.enabled };
}

/** The audit-log detail of a change: before and after, as JSON a person can read. */
export function describeChange(before: EffectiveSchedule, after: { cron: string; enabled: boolean }): string {
  return JSON.stringify({ from: { cron: before.cron, enabled: before.enabled }, to: after });
}

/** Which cron tasks to (re)create and which to drop, from what runs now and what the schedules say. */
export function reconcileTasks(
  running: ReadonlyMap<JobName, string>,
  schedules: readonly EffectiveSchedule[],
): { start: Array<{ job: JobName; cron: string }>; stop: JobName[] } {
  const start: Array<{ job: JobName; cron: string }> = [];
  const stop: JobName[] = [];
  for (const schedule of schedules) {
    const cron = running.get(schedule.job);
    if (!schedule.enabled) {
      if (cron !== undefined) stop.push(schedule.job);
    } else if (cron !== schedule.cron) {
      if (cron !== undefined) stop.push(schedule.job);
      start.push({ job: schedule.job, cron: schedule.cron });
    }
  }
  return { start, stop };
}
