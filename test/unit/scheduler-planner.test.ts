import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  applyChange,
  assertJobName,
  assertValidCron,
  cronProblem,
  describeChange,
  effectiveSchedules,
  nextRuns,
  reconcileTasks,
  type StoredSchedule,
} from '../../src/main/scheduler/planner';
import { ErrorCode } from '../../src/shared/errors';
import { SCHEDULED_JOBS, scheduleSetRequestSchema, type JobName } from '../../src/shared/schedule';

const stored = (job: string, cron: string, enabled = 1): StoredSchedule => ({
  job,
  cron,
  enabled,
  updated_at: new Date('2025-03-01T10:00:00Z'),
  updated_by: 'dba@ops1',
});

describe('default schedules', () => {
  it('roll up hourly at :00, daily at 02:00 and monthly on the 1st at 03:00, and maintain at 04:00, all enabled', () => {
    expect(effectiveSchedules([]).map(({ job, cron, enabled, isDefault }) => ({ job, cron, enabled, isDefault }))).toEqual([
      { job: 'rollup-hourly', cron: '0 * * * *', enabled: true, isDefault: true },
      { job: 'rollup-daily', cron: '0 2 * * *', enabled: true, isDefault: true },
      { job: 'rollup-monthly', cron: '0 3 1 * *', enabled: true, isDefault: true },
      { job: 'reconcile', cron: '30 2 * * *', enabled: true, isDefault: true },
      { job: 'maintenance', cron: '0 4 * * *', enabled: true, isDefault: true },
      { job: 'backup', cron: '0 1 * * *', enabled: true, isDefault: true },
    ]);
  });

  it('are all valid cron expressions', () => {
    for (const definition of SCHEDULED_JOBS) expect(cronProblem(definition.defaultCron)).toBeUndefined();
  });
});

describe('stored schedules', () => {
  it('override the default of their job only, and say who changed them when', () => {
    const [hourly, daily] = effectiveSchedules([stored('rollup-daily', '30 1 * * *', 0)]);
    expect(hourly?.isDefault).toBe(true);
    expect(daily).toEqual({
      job: 'rollup-daily',
      cron: '30 1 * * *',
      enabled: false,
      isDefault: false,
      defaultCron: '0 2 * * *',
      changedBy: 'dba@ops1',
      changedAt: '2025-03-01T10:00:00.000Z',
    });
  });

  it('of jobs this build does not know are ignored', () => {
    expect(effectiveSchedules([stored('prune-v9', '0 4 * * *')]).map((schedule) => schedule.job)).toEqual(['rollup-hourly', 'rollup-daily', 'rollup-monthly', 'reconcile', 'maintenance', 'backup']);
  });
});

describe('cron validation', () => {
  it.each([
    ['0 25 * * *', /hour: 25 is a invalid expression/],
    ['61 * * * *', /minute: 61/],
    ['banana', /expected 5 or 6 fields but got 1/],
    ['0 0 31 2 *', /impossible day of month/],
    ['   ', /empty/],
    [`0 ${'1,'.repeat(60)}2 * * *`, /longer than 100 characters/],
  ])('refuses %s with the reason', (cron, reason) => {
    expect(cronProblem(cron)).toMatch(reason);
    expect(() => assertValidCron(cron)).toThrow(expect.objectContaining({ code: ErrorCode.ScheduleInvalidCron, message: expect.stringMatching(reason) }));
  });

  it.each(['0 * * * *', '*/15 * * * *', '0 2 * * MON-FRI', '30 * * * * *'])('accepts %s', (cron) => {
    expect(cronProblem(cron)).toBeUndefined();
  });

  it('refuses an unknown job name with the list of jobs', () => {
    expect(() => assertJobName('rollup-weekly')).toThrow(expect.objectContaining({ code: ErrorCode.ScheduleUnknownJob, message: expect.stringContaining('rollup-hourly, rollup-daily, rollup-monthly') }));
  });

  it('the IPC request needs a cron expression or an enabled flag', () => {
    expect(scheduleSetRequestSchema.safeParse({ job: 'rollup-daily' }).success).toBe(false);
    expect(scheduleSetRequestSchema.safeParse({ job: 'rollup-daily', enabled: false }).success).toBe(true);
    expect(scheduleSetRequestSchema.safeParse({ job: 'nope', cron: '0 2 * * *' }).success).toBe(false);
  });
});

describe('next runs', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('are read in UTC, after the current time', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2025-01-31T02:30:00Z'));
    expect(nextRuns('0 2 * * *').map((date) => date.toISOString())).toEqual(['2025-02-01T02:00:00.000Z', '2025-02-02T02:00:00.000Z', '2025-02-03T02:00:00.000Z']);
    expect(nextRuns('0 3 1 * *').map((date) => date.toISOString())).toEqual(['2025-02-01T03:00:00.000Z', '2025-03-01T03:00:00.000Z', '2025-04-01T03:00:00.000Z']);
  });
});

describe('changes', () => {
  const [, daily] = effectiveSchedules([]);

  it('keep what the request does not mention', () => {
    if (!daily) throw new Error('no daily schedule');
    expect(applyChange(daily, { enabled: false })).toEqual({ cron: '0 2 * * *', enabled: false });
    expect(applyChange(daily, { cron: ' 15 2 * * * ' })).toEqual({ cron: '15 2 * * *', enabled: true });
    expect(JSON.parse(describeChange(daily, { cron: '15 2 * * *', enabled: true }))).toEqual({ from: { cron: '0 2 * * *', enabled: true }, to: { cron: '15 2 * * *', enabled: true } });
  });

  it('re-arm only the cron tasks whose schedule changed', () => {
    const running = new Map<JobName, string>([
      ['rollup-hourly', '0 * * * *'],
      ['rollup-daily', '0 2 * * *'],
    ]);
    const schedules = effectiveSchedules([stored('rollup-daily', '15 2 * * *'), stored('rollup-hourly', '0 * * * *', 0)]);
    expect(reconcileTasks(running, schedules)).toEqual({
      stop: ['rollup-hourly', 'rollup-daily'],
      start: [
        { job: 'rollup-daily', cron: '15 2 * * *' },
        { job: 'rollup-monthly', cron: '0 3 1 * *' },
        { job: 'reconcile', cron: '30 2 * * *' },
        { job: 'maintenance', cron: '0 4 * * *' },
        { job: 'backup', cron: '0 1 * * *' },
      ],
    });
    expect(
      reconcileTasks(
        new Map([
          ['rollup-monthly', '0 3 1 * *'],
          ['reconcile', '30 2 * * *'],
          ['maintenance', '0 4 * * *'],
          ['backup', '0 1 * * *'],
        ]),
        effectiveSchedules([stored('rollup-hourly', '0 * * * *', 0), stored('rollup-daily', '0 2 * * *', 0)]),
      ),
    ).toEqual({ stop: [], start: [] });
  });
});
