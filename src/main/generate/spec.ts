import { ErrorCode, StrataError } from '../../shared/errors';
import { parseIsoUtc } from '../../shared/iso-time';

export const MAX_SITES = 1_000_000;
export const MAX_VIEWS = 100_000_000;
export const MAX_SEED = 0xffffffff;
/** analytics_realtime.created_at is a TIMESTAMP: it holds 1970-01-01 00:00:01 to 2038-01-19 03:14:07 UTC. */
const FIRST_TIMESTAMP_SECOND = 1;
const LAST_TIMESTAMP_SECOND = 2_147_483_647;

/** What a caller asks for, before validation (the CLI hands over its raw option strings). */
export interface GenerateRequest {
  from: string;
  to: string;
  sites: number | string;
  views: number | string;
  seed?: number | string;
}

/**
 * A validated generator run. Rows get whole-second timestamps in [startSecond, endSecond),
 * which is exactly the seconds inside the requested [from, to).
 */
export interface GenerateSpec {
  from: Date;
  to: Date;
  startSecond: number;
  endSecond: number;
  sites: number;
  views: number;
  seed: number;
}

function invalid(message: string): never {
  throw new StrataError(ErrorCode.GenerateInvalid, message);
}

function parseUtcTime(name: string, text: string): Date {
  const parsed = parseIsoUtc(text);
  if (!parsed.ok && parsed.reason === 'offset') invalid(`--${name} must be in UTC (end in Z), got '${text}'`);
  if (!parsed.ok) invalid(`--${name} must be an ISO-8601 UTC time such as 2025-03-01T00:00:00Z, got '${text}'`);
  return parsed.date;
}

function parseCount(name: string, value: number | string, min: number, max: number): number {
  const number = typeof value === 'number' ? value : /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(number) || number < min || number > max) {
    invalid(`--${name} must be a whole number from ${min.toLocaleString('en-US')} to ${max.toLocaleString('en-US')}, got '${value}'`);
  }
  return number;
}

/** A seed for runs that did not ask for one; it is reported so the run can be repeated. */
export function randomSeed(): number {
  return Math.floor(Math.random() * (MAX_SEED + 1));
}

/** Checks a request and turns it into a spec; any problem is one StrataError line naming the option. */
export function parseGenerateRequest(request: GenerateRequest, pickSeed: () => number = randomSeed): GenerateSpec {
  const from = parseUtcTime('from', request.from);
  const to = parseUtcTime('to', request.to);
  if (from.getTime() >= to.getTime()) invalid(`--from (${from.toISOString()}) must be before --to (${to.toISOString()})`);
  // created_at has whole seconds: a row at second s lies in [from, to) when from <= s < to.
  const startSecond = Math.ceil(from.getTime() / 1000);
  const endSecond = Math.ceil(to.getTime() / 1000);
  if (endSecond <= startSecond) invalid(`--from and --to must contain at least one whole second`);
  if (startSecond < FIRST_TIMESTAMP_SECOND || endSecond - 1 > LAST_TIMESTAMP_SECOND) {
    invalid('--from and --to must lie within the TIMESTAMP range, 1970-01-01T00:00:01Z to 2038-01-19T03:14:07Z');
  }
  const sites = parseCount('sites', request.sites, 1, MAX_SITES);
  const views = parseCount('views', request.views, 1, MAX_VIEWS);
  const seed = request.seed === undefined ? pickSeed() : parseCount('seed', request.seed, 0, MAX_SEED);
  return { from, to, startSecond, endSecond, sites, views, seed };
}
