import { ErrorCode, StrataError, type ErrorCodeValue } from '../../shared/errors';
import {
  backfillRequestSchema,
  type BackfillPlan,
  type BackfillRecord,
  type BackfillRequestInput,
  type BackfillState,
  type BackfillWindow,
  type RefusedRange,
  type TimeEstimate,
} from '../../shared/backfill';
import { rollupLevelSchema, type RetentionPolicy, type RollupLevel } from '../../shared/rollup';
import { LEVELS, planRange, retentionStart } from '../rollup/planner';
import { periodStart } from '../schema/partitions';

/**
 * The backfill planner: which windows a backfill runs and in what order, which of them can no longer be rebuilt,
 * how long it should take, and when a stored backfill is really running. Pure: no connections, no clock.
 */

export interface BackfillStep {
  level: RollupLevel;
  start: Date;
  end: Date;
  kind: 'range' | 'cascade';
}

/** Backfills are stored on the control shard, like the schedules. */
export const BACKFILLS_TABLE = 'strata_backfills';

/** A backfill may not plan more windows than this: the windows are listed in the dry run and in the console. */
export const MAX_BACKFILL_WINDOWS = 20_000;

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const COARSER: Record<RollupLevel, RollupLevel | undefined> = { hourly: 'daily', daily: 'monthly', monthly: undefined };

function invalid(message: string): never {
  throw new StrataError(ErrorCode.BackfillInvalid, message);
}

/** Checks and reads the request's times: valid ISO instants, from before to. */
export function parseRange(fromText: string, toText: string): { from: Date; to: Date } {
  const from = new Date(fromText);
  const to = new Date(toText);
  if (Number.isNaN(from.getTime())) invalid(`from must be an ISO-8601 UTC time, got '${fromText}'`);
  if (Number.isNaN(to.getTime())) invalid(`to must be an ISO-8601 UTC time, got '${toText}'`);
  if (from >= to) invalid(`from (${from.toISOString()}) must be before to (${to.toISOString()})`);
  return { from, to };
}

/** The windows of one level that cover [from, to), expanded to whole windows. */
function levelWindows(level: RollupLevel, from: Date, to: Date, kind: BackfillStep['kind']): BackfillStep[] {
  return planRange(level, from, to, { maxWindows: MAX_BACKFILL_WINDOWS }).map((window) => ({ level, start: window.start, end: window.end, kind }));
}

/**
 * Every window of a backfill in the order it runs: the asked-for windows oldest first, then with cascade the days
 * that cover them, then the months that cover those. Deterministic, so a resumed backfill finds its place by count.
 */
export function backfillSteps(level: RollupLevel, from: Date, to: Date, cascade: boolean): BackfillStep[] {
  const steps = levelWindows(level, from, to, 'range');
  if (steps.length > MAX_BACKFILL_WINDOWS) invalid(`the range holds ${steps.length} ${level} windows, more than ${MAX_BACKFILL_WINDOWS}; split it into smaller backfills`);
  if (!cascade || steps.length === 0) return steps;
  let below = steps;
  for (let coarser = COARSER[level]; coarser; coarser = COARSER[coarser]) {
    const covering = levelWindows(coarser, below[0]!.start, below.at(-1)!.end, 'cascade');
    steps.push(...covering);
    below = covering;
  }
  return steps;
}

/** The whole time a backfill rewrites, cascade included: what two backfills must not share. */
export function affectedSpan(steps: readonly BackfillStep[]): { from: Date; to: Date } | undefined {
  if (steps.length === 0) return undefined;
  const from = Math.min(...steps.map((step) => step.start.getTime()));
  const to = Math.max(...steps.map((step) => step.end.getTime()));
  return { from: new Date(from), to: new Date(to) };
}

export interface BackfillSpan {
  from: Date;
  to: Date;
  shards: readonly number[];
}

/** Two backfills collide when they rewrite some of the same time on some of the same shards. */
export function spansOverlap(a: BackfillSpan, b: BackfillSpan): boolean {
  return a.from < b.to && b.from < a.to && a.shards.some((shard) => b.shards.includes(shard));
}

/** A shard's watermark per level, as far as known. */
export type LevelWatermarks = Partial<Record<RollupLevel, Date | null>>;

/**
 * Whether a cascade window can be re-rolled on a shard: every source window under it must be in, either because the
 * source level's watermark has passed its end or because this backfill itself rebuilt all of them: a range window
 * always, a cascade window (the days under a month) when it could itself be re-rolled by the same rule.
 */
export function cascadeSourceComplete(step: BackfillStep, watermarks: LevelWatermarks, steps: readonly BackfillStep[]): boolean {
  const sourceLevel = LEVELS[step.level].sourceLevel;
  if (!sourceLevel) return false;
  const watermark = watermarks[sourceLevel];
  if (watermark && watermark >= step.end) return true;
  const covering = steps.filter((candidate) => candidate.level === sourceLevel && candidate.start < step.end && candidate.end > step.start);
  if (covering.length === 0 || covering[0]!.start > step.start || covering.at(-1)!.end < step.end) return false;
  return covering.every((candidate) => candidate.kind === 'range' || cascadeSourceComplete(candidate, watermarks, steps));
}

/** The instant before which each table's rows are past retention at `now`. */
export function keptSince(table: 'raw' | RollupLevel, now: Date, retention: RetentionPolicy): Date | null {
  const kept = { raw: retention.rawHours * HOUR_MS, hourly: retention.hourlyDays * DAY_MS, daily: retention.dailyDays * DAY_MS, monthly: undefined }[table];
  return kept === undefined ? null : new Date(now.getTime() - kept);
}

/** True when retention no longer keeps the source of this window: it may have been pruned. */
export function outsideSourceRetention(step: Pick<BackfillStep, 'level' | 'start'>, now: Date, retention: RetentionPolicy): boolean {
  return step.start < retentionStart(step.level, now, retention);
}

/**
 * The finest level whose own rows retention still keeps for a window whose source is gone: backfilling the level
 * above it rebuilds from them. Null when only the monthly rows are left, which nothing is built from.
 */
export function rebuildableFrom(step: Pick<BackfillStep, 'level' | 'start'>, now: Date, retention: RetentionPolicy): RollupLevel | null {
  for (let level: RollupLevel | undefined = step.level; level && level !== 'monthly'; level = COARSER[level]) {
    const since = keptSince(level, now, retention);
    if (since && step.start >= periodStart(since, LEVELS[level].granularity)) return level;
  }
  return null;
}

const TABLE_WORDS: Record<RollupLevel, string> = { hourly: 'raw page views', daily: 'hourly rows', monthly: 'daily rows' };
const KEPT_WORDS = (retention: RetentionPolicy): Record<RollupLevel, string> => ({
  hourly: `${retention.rawHours} h`,
  daily: `${retention.hourlyDays} days`,
  monthly: `${retention.dailyDays} days`,
});

/** A refused window, and (when the cluster was asked) the levels whose own rows still hold it on its shards. */
export type RefusedStep = Pick<BackfillStep, 'level' | 'start' | 'end'> & { shards: readonly number[]; heldBy?: readonly RollupLevel[] };

/** The rows of each level as the policy keeps them, in words: "kept 7 days". */
const LEVEL_KEPT_WORDS = (retention: RetentionPolicy): Record<RollupLevel, string> => ({
  hourly: `${retention.hourlyDays} days`,
  daily: `${retention.dailyDays} days`,
  monthly: `${retention.monthlyMonths} months`,
});

/** The finest level, from the window's own up, whose retention still keeps its rows for this window. */
function keepingLevel(step: Pick<BackfillStep, 'level' | 'start'>, now: Date, retention: RetentionPolicy): RollupLevel | undefined {
  for (let level: RollupLevel | undefined = step.level; level; level = COARSER[level]) {
    let since = keptSince(level, now, retention);
    if (!since) {
      since = new Date(now);
      since.setUTCMonth(since.getUTCMonth() - retention.monthlyMonths);
    }
    if (step.start >= periodStart(since, LEVELS[level].granularity)) return level;
  }
  return undefined;
}

/**
 * Why a window's source is missing, from the data when the cluster was asked (`heldBy`), else from the policy
 * alone: `empty` names the level retention still keeps there that holds no row (so nothing was ever recorded);
 * otherwise `rebuildFrom` is the finest level holding rows (null when none does, or only monthly rows do).
 */
function classifyRefused(step: RefusedStep, now: Date, retention: RetentionPolicy): { rebuildFrom: RollupLevel | null; empty?: RollupLevel } {
  if (!step.heldBy) return { rebuildFrom: rebuildableFrom(step, now, retention) };
  const keeper = keepingLevel(step, now, retention);
  if (keeper && !step.heldBy.includes(keeper)) return { rebuildFrom: null, empty: keeper };
  const finest = (['hourly', 'daily', 'monthly'] as const).find((level) => step.heldBy!.includes(level));
  return { rebuildFrom: finest === undefined || finest === 'monthly' ? null : finest };
}

/** Refused windows (oldest first) merged into ranges that share their level to rebuild from, each with its sentence. */
export function refusedRanges(steps: readonly RefusedStep[], now: Date, retention: RetentionPolicy): RefusedRange[] {
  const ranges: Array<RefusedRange & { shardSet: Set<number>; empty?: RollupLevel; heldNowhere: boolean }> = [];
  for (const step of steps) {
    const { rebuildFrom, empty } = classifyRefused(step, now, retention);
    const heldNowhere = step.heldBy?.length === 0;
    const last = ranges.at(-1);
    if (last && last.level === step.level && last.rebuildFrom === rebuildFrom && last.empty === empty && last.heldNowhere === heldNowhere && last.to === step.start.toISOString()) {
      last.to = step.end.toISOString();
      for (const shard of step.shards) last.shardSet.add(shard);
      continue;
    }
    ranges.push({ level: step.level, from: step.start.toISOString(), to: step.end.toISOString(), rebuildFrom, message: '', shardSet: new Set(step.shards), empty, heldNowhere });
  }
  return ranges.map(({ shardSet, empty, heldNowhere, ...range }) => {
    const shards = [...shardSet].sort((a, b) => a - b).map((shard) => `shard ${shard}`).join(', ');
    if (empty) {
      const kept = `the ${empty} rows (kept ${LEVEL_KEPT_WORDS(retention)[empty]}) hold none`;
      return { ...range, message: `there are no rows for ${range.from} – ${range.to} on ${shards}: no ${TABLE_WORDS[range.level]}, and ${kept}, so no traffic was recorded then and there is nothing to backfill` };
    }
    const gone = `the ${TABLE_WORDS[range.level]} of ${range.from} – ${range.to} were pruned on ${shards} (kept ${KEPT_WORDS(retention)[range.level]})`;
    const advice = range.rebuildFrom
      ? `the ${range.rebuildFrom} rows still hold it: backfill --level ${COARSER[range.rebuildFrom]} rebuilds from them`
      : heldNowhere
        ? 'every level is past its retention there, so nothing holds it any more'
        : 'only the monthly rows still hold it, and nothing is rebuilt from them';
    return { ...range, message: `${gone}; ${advice}` };
  });
}

/** Windows of a level's own table that hold rows, as epoch seconds: which levels still hold a refused window. */
export function heldWindowsSql(level: RollupLevel): string {
  const { target, targetColumn } = LEVELS[level];
  return `SELECT DISTINCT UNIX_TIMESTAMP(${targetColumn}) AS start_epoch FROM ${target} WHERE ${targetColumn} >= ? AND ${targetColumn} < ?`;
}

/** The levels that hold a refused window, from each level's held windows on the window's shards. */
export function levelsHolding(step: Pick<BackfillStep, 'level' | 'start'>, shards: readonly number[], held: ReadonlyMap<RollupLevel, ReadonlyMap<number, ReadonlySet<number>>>): RollupLevel[] {
  const levels: RollupLevel[] = [];
  for (let level: RollupLevel | undefined = step.level; level; level = COARSER[level]) {
    const start = periodStart(step.start, LEVELS[level].granularity).getTime();
    if (shards.some((shard) => held.get(level!)?.get(shard)?.has(start))) levels.push(level);
  }
  return levels;
}

/** Assumed rates when a level has no run history yet; stated in the dry run so nobody mistakes them for measurements. */
export const FALLBACK_RATES: Record<RollupLevel, { rowsPerSecond: number; msPerWindow: number }> = {
  hourly: { rowsPerSecond: 50_000, msPerWindow: 50 },
  daily: { rowsPerSecond: 20_000, msPerWindow: 50 },
  monthly: { rowsPerSecond: 20_000, msPerWindow: 50 },
};

/**
 * A level's cost model from its past windows: a fixed cost per window (the fastest window seen) plus a cost per
 * source row (the rest of the time over all rows read). Falls back to stated rates without usable history.
 */
export function estimateFromHistory(level: RollupLevel, samples: ReadonlyArray<{ rowsRead: number; durationMs: number }>): TimeEstimate {
  const usable = samples.filter((sample) => sample.rowsRead > 0 && sample.durationMs >= 0);
  if (usable.length === 0) {
    const fallback = FALLBACK_RATES[level];
    return {
      basis: 'fallback',
      msPerRow: 1000 / fallback.rowsPerSecond,
      msPerWindow: fallback.msPerWindow,
      note: `no ${level} run history yet: assumed ${fallback.rowsPerSecond.toLocaleString('en-US')} source rows/s and ${fallback.msPerWindow} ms per window`,
    };
  }
  const msPerWindow = Math.min(...usable.map((sample) => sample.durationMs));
  const rows = usable.reduce((sum, sample) => sum + sample.rowsRead, 0);
  const variableMs = usable.reduce((sum, sample) => sum + sample.durationMs - msPerWindow, 0);
  const msPerRow = variableMs / rows;
  const rate = msPerRow > 0 ? `${Math.round(1000 / msPerRow).toLocaleString('en-US')} source rows/s` : 'no measurable cost per row';
  return { basis: 'history', msPerRow, msPerWindow, note: `from the last ${usable.length} ${level} windows: ${rate} plus ${Math.round(msPerWindow)} ms per window` };
}

/** Shards run a window in parallel, so a window takes as long as its slowest shard. */
export function windowEstimateMs(rowsPerShard: readonly number[], estimate: Pick<TimeEstimate, 'msPerRow' | 'msPerWindow'>): number {
  if (rowsPerShard.length === 0) return 0;
  return Math.round(Math.max(...rowsPerShard.map((rows) => estimate.msPerWindow + rows * estimate.msPerRow)));
}

/**
 * Time left: the planned time of the windows still to run, scaled by how the finished ones compared with their plan
 * (a cluster twice as slow as its history finishes twice as late).
 */
export function remainingMs(plannedMs: readonly number[], firstWindowThisRun: number, done: number, elapsedThisRunMs: number): number {
  const remaining = plannedMs.slice(done).reduce((sum, ms) => sum + ms, 0);
  const plannedSoFar = plannedMs.slice(firstWindowThisRun, done).reduce((sum, ms) => sum + ms, 0);
  if (done <= firstWindowThisRun || plannedSoFar <= 0) return Math.round(remaining);
  return Math.round(remaining * (elapsedThisRunMs / plannedSoFar));
}

/** What is needed to tell a backfill stored as running from one whose process is gone. */
export interface LivenessCheck {
  thisHost: string;
  /** Ids this process runs right now. */
  runningHere: ReadonlySet<number>;
  /** Whether a process with this id exists on this host. */
  pidAlive(pid: number): boolean;
  now: Date;
  /** A backfill on another host whose heartbeat is older than this is taken as interrupted. */
  staleAfterMs: number;
}

/** The states a process is (or should be) working on: its heartbeat tells whether it still is. */
export const LIVE_STATES: readonly string[] = ['running', 'cancelling'];

/** The state to show: a `running` or `cancelling` row whose process died (kill -9, a crash, a reboot) is `interrupted`. */
export function effectiveState(stored: { id: number; state: string; host: string; pid: number; updatedAt: Date }, check: LivenessCheck): BackfillState {
  const state = stored.state as BackfillState;
  if (!LIVE_STATES.includes(state)) return state;
  if (check.runningHere.has(stored.id)) return state;
  if (stored.host === check.thisHost) return check.pidAlive(stored.pid) ? state : 'interrupted';
  return check.now.getTime() - stored.updatedAt.getTime() > check.staleAfterMs ? 'interrupted' : state;
}

const CANCEL_REQUEST_PREFIX = 'cancel requested by ';

/** What a cancel request leaves in the row's error column while the running process winds down. */
export function cancelRequestNote(actor: string): string {
  return `${CANCEL_REQUEST_PREFIX}${actor}`;
}

/** Who asked, from a `cancelling` row's error column; undefined when it holds no request. */
export function cancelRequester(error: string | null): string | undefined {
  return error?.startsWith(CANCEL_REQUEST_PREFIX) ? error.slice(CANCEL_REQUEST_PREFIX.length) || undefined : undefined;
}

/** Source windows of one level that hold rows, as epoch seconds: tells a pruned window from imported history. */
export function presentSourceWindowsSql(level: RollupLevel): string {
  const { source, sourceColumn } = LEVELS[level];
  const start = {
    hourly: `UNIX_TIMESTAMP(${sourceColumn}) DIV 3600 * 3600`,
    daily: `UNIX_TIMESTAMP(DATE(${sourceColumn}))`,
    monthly: `UNIX_TIMESTAMP(DATE_FORMAT(${sourceColumn}, '%Y-%m-01'))`,
  }[level];
  return `SELECT DISTINCT ${start} AS start_epoch FROM ${source} WHERE ${sourceColumn} >= ? AND ${sourceColumn} < ?`;
}

/** Shards of a request: all when none are named; each named once, in order. */
export function resolveShards(requested: readonly number[] | undefined, shardCount: number): number[] {
  const shards = requested ? [...new Set(requested)].sort((a, b) => a - b) : Array.from({ length: shardCount }, (_, index) => index);
  for (const shard of shards) {
    if (shard >= shardCount) throw new StrataError(ErrorCode.UnknownShard, `shard ${shard} does not exist; the profile has ${shardCount} shards (0-${shardCount - 1})`);
  }
  if (shards.length === 0) invalid('name at least one shard');
  return shards;
}

/** A request as the service runs it: checked, with its shards resolved and every window it runs, in order. */
export interface CheckedRequest {
  level: RollupLevel;
  from: Date;
  to: Date;
  shards: number[];
  cascade: boolean;
  steps: BackfillStep[];
}

/** Everything that needs no cluster: level, range, shards and the windows they make. */
export function checkRequest(input: BackfillRequestInput, shardCount: number): CheckedRequest {
  const parsed = backfillRequestSchema.safeParse(input);
  if (!parsed.success) {
    const level = rollupLevelSchema.safeParse((input as { level?: unknown }).level);
    if (!level.success) invalid(`unknown level '${String((input as { level?: unknown }).level)}'; use hourly, daily or monthly`);
    invalid(parsed.error.issues.map((issue) => `${issue.path.join('.') || 'request'}: ${issue.message}`).join('; '));
  }
  const request = parsed.data;
  const { from, to } = parseRange(request.from, request.to);
  const shards = resolveShards(request.shards, shardCount);
  return { level: request.level, from, to, shards, cascade: request.cascade, steps: backfillSteps(request.level, from, to, request.cascade) };
}

/** Refuses, with the reason, a plan that must not start: a shard that could not be planned, or a pruned source. */
export function assertRunnable(plan: BackfillPlan): void {
  const [problem] = plan.problems;
  if (problem) throw new StrataError(problem.code as ErrorCodeValue, `shard ${problem.shard} cannot be planned, so nothing was started: ${problem.message}`);
  if (plan.refused.length > 0) {
    throw new StrataError(ErrorCode.BackfillSourcePruned, `nothing was started: ${plan.refused.map((range) => range.message).join('; ')}`);
  }
}

/** Refuses a request that rewrites windows a live backfill (other than `self`, the one being resumed) also rewrites. */
export function assertNoOverlap(request: CheckedRequest, live: readonly BackfillRecord[], self?: number): void {
  const span = affectedSpan(request.steps);
  if (!span) return;
  for (const other of live) {
    if (other.id === self || !LIVE_STATES.includes(other.state)) continue;
    const otherSpan = affectedSpan(backfillSteps(other.level, new Date(other.from), new Date(other.to), other.cascade));
    if (otherSpan && spansOverlap({ ...span, shards: request.shards }, { ...otherSpan, shards: other.shards })) {
      throw new StrataError(
        ErrorCode.BackfillOverlap,
        `backfill ${other.id} (${other.level} ${other.from} – ${other.to}${other.cascade ? ' with cascade' : ''}, shards ${other.shards.join(',')}) is running on ${other.host} and rewrites some of the same windows; wait for it or cancel it`,
      );
    }
  }
}

/** What planning read from the cluster, per level and window, for buildPlan. */
export interface PlanInputs {
  /** Estimated source rows of each shard, by `level/windowStart`. */
  rowsByWindow: ReadonlyMap<string, readonly number[]>;
  estimates: Record<string, TimeEstimate>;
  /** Windows whose source was pruned (or never held rows), with the shards where it is missing. */
  refusedSteps: ReadonlyArray<BackfillStep & RefusedStep>;
  problems: BackfillPlan['problems'];
  retention: RetentionPolicy;
  now: Date;
}

/** The key of a window in PlanInputs.rowsByWindow. */
export const windowKey = (level: RollupLevel, windowStart: string): string => `${level}/${windowStart}`;

/** The dry run's answer: every window with its estimated rows and time, the refused ranges and the totals. */
export function buildPlan(request: CheckedRequest, inputs: PlanInputs): BackfillPlan {
  const windows: BackfillWindow[] = request.steps.map((step) => {
    const rows = inputs.rowsByWindow.get(windowKey(step.level, step.start.toISOString())) ?? [];
    return {
      level: step.level,
      windowStart: step.start.toISOString(),
      windowEnd: step.end.toISOString(),
      kind: step.kind,
      estimatedSourceRows: rows.reduce((sum, value) => sum + value, 0),
      estimatedMs: windowEstimateMs(rows, inputs.estimates[step.level]!),
    };
  });
  return {
    level: request.level,
    from: request.from.toISOString(),
    to: request.to.toISOString(),
    shards: request.shards,
    cascade: request.cascade,
    windows,
    refused: refusedRanges(inputs.refusedSteps, inputs.now, inputs.retention),
    estimates: inputs.estimates,
    estimatedSourceRows: windows.reduce((sum, window) => sum + window.estimatedSourceRows, 0),
    estimatedMs: windows.reduce((sum, window) => sum + window.estimatedMs, 0),
    problems: inputs.problems,
  };
}
