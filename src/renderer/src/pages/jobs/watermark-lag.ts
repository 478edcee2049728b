import type { RollupLevel, WatermarkRow } from '../../../../shared/rollup';
import type { ScheduleEntry } from '../../../../shared/schedule';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The longest window of each level: a watermark is always up to one window behind, even when all is well. */
const WINDOW_MS: Record<RollupLevel, number> = { hourly: HOUR_MS, daily: DAY_MS, monthly: 31 * DAY_MS };

/** Time a scheduled run is given to finish (the runbook's 5 minutes, with room for catch-up after a restart). */
const RUN_GRACE_MS = HOUR_MS;

export type LagState = 'on-time' | 'behind' | 'not-started' | 'unknown';

export interface WatermarkLag {
  state: LagState;
  /** now − watermark; absent when there is no watermark. */
  lagMs?: number;
  /** The lag beyond which the level counts as behind. */
  limitMs: number;
}

/** How far into its period (UTC hour, day or month) a scheduled run starts: `5 * * * *` runs 5 min into the hour. */
function scheduleOffsetMs(level: RollupLevel, runIso: string): number {
  const run = new Date(runIso);
  const periodStart =
    level === 'hourly'
      ? Date.UTC(run.getUTCFullYear(), run.getUTCMonth(), run.getUTCDate(), run.getUTCHours())
      : level === 'daily'
        ? Date.UTC(run.getUTCFullYear(), run.getUTCMonth(), run.getUTCDate())
        : Date.UTC(run.getUTCFullYear(), run.getUTCMonth(), 1);
  return run.getTime() - periodStart;
}

/**
 * The most a level's watermark may lag before it is late: one window, plus how far into the period its job is
 * scheduled, plus time for the run. With the default schedules: hourly 2 h, daily 27 h, monthly 31 d 4 h.
 */
export function lagLimitMs(level: RollupLevel, schedule: ScheduleEntry | undefined): number {
  const nextRun = schedule?.nextRuns[0];
  return WINDOW_MS[level] + (nextRun ? scheduleOffsetMs(level, nextRun) : 0) + RUN_GRACE_MS;
}

export function watermarkLag(row: WatermarkRow, now: number, schedule: ScheduleEntry | undefined): WatermarkLag {
  const limitMs = lagLimitMs(row.level, schedule);
  if (row.problem) return { state: 'unknown', limitMs };
  if (row.watermark === null) return { state: 'not-started', limitMs };
  const lagMs = Math.max(0, now - Date.parse(row.watermark));
  return { state: lagMs > limitMs ? 'behind' : 'on-time', lagMs, limitMs };
}

/** The job that rolls a level up, as named in the schedules. */
export function jobOfLevel(level: RollupLevel): ScheduleEntry['job'] {
  return `rollup-${level}`;
}
