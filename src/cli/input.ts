import { createInterface } from 'node:readline/promises';
import { ErrorCode, StrataError, type ErrorCodeValue } from '../shared/errors';
import { EARLIEST_TIME, latestTime, parseIsoUtc } from '../shared/iso-time';

/** Exit code of a run stopped with Ctrl-C, as shells report SIGINT. */
export const EXIT_CANCELLED = 130;

export const formatCount = (value: number) => value.toLocaleString('en-US');

/** Window bounds without the noise of zero seconds: 2026-11-25T10:00Z. */
export const shortTime = (text: string) => text.replace(':00.000Z', 'Z');

/**
 * A parser for an option that takes a whole number (commander's argParser). A bad value is a coded StrataError,
 * which the CLI reports in one line with exit 2, never commander's usage dump.
 */
export function wholeNumberOption(flag: string, range: { min?: number; max?: number; what?: string } = {}, code: ErrorCodeValue = ErrorCode.InvalidInput) {
  const { min = 0, max = Number.MAX_SAFE_INTEGER, what = 'a whole number' } = range;
  const bounds = max === Number.MAX_SAFE_INTEGER ? (min > 0 ? ` of at least ${min}` : '') : ` from ${min} to ${max}`;
  return (text: string): number => {
    const value = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) throw new StrataError(code, `${flag} must be ${what}${bounds}, got '${text}'`);
    return value;
  };
}

/**
 * Parses a --from/--to value: ISO-8601 in UTC, as precise as the times Strata prints (`2026-11-30T05:00Z`), and
 * from 2000-01-01 up to a year from now; anything else is a clear error with the caller's code. The bounds keep a
 * typo such as 1026 for 2026 from planning a thousand years of windows.
 */
export function parseUtcOption(name: string, text: string, code: ErrorCodeValue, now: Date = new Date()): Date {
  const parsed = parseIsoUtc(text);
  if (!parsed.ok) {
    if (parsed.reason === 'offset') throw new StrataError(code, `--${name} must be in UTC (end in Z), got '${text}'`);
    throw new StrataError(code, `--${name} must be an ISO-8601 UTC time such as 2025-03-01T00:00:00Z or 2025-03-01T00:00Z, got '${text}'`);
  }
  const latest = latestTime(now);
  if (parsed.date < EARLIEST_TIME || parsed.date > latest) {
    throw new StrataError(code, `--${name} ${text} is outside the times Strata works with: from ${EARLIEST_TIME.toISOString().slice(0, 10)} up to a year from now (${latest.toISOString().slice(0, 10)})`);
  }
  return parsed.date;
}

/**
 * Asks on the terminal before something destructive: only typing `expected` goes on; anything else declines, and
 * Ctrl-C at the prompt interrupts. Callers check for a terminal first (without one, only --yes goes on).
 */
export async function askToType(question: string, expected: string): Promise<'confirmed' | 'declined' | 'interrupted'> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  const interrupt = new AbortController();
  prompt.on('SIGINT', () => interrupt.abort());
  try {
    const answer = await prompt.question(`${question} Type ${expected} to go on: `, { signal: interrupt.signal });
    return answer.trim() === expected ? 'confirmed' : 'declined';
  } catch {
    return 'interrupted';
  } finally {
    prompt.close();
  }
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds from `90`, `90s`, `5m`, `2h` or `1d` (a for-duration, a silence); anything else is a coded one-line error. */
export function parseDurationOption(flag: string, text: string, code: ErrorCodeValue, maxSeconds = 7 * 86_400): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  const seconds = match ? Number(match[1]) * DURATION_UNITS[match[2] || 's']! : Number.NaN;
  if (!Number.isSafeInteger(seconds) || seconds > maxSeconds) {
    throw new StrataError(code, `${flag} must be a duration such as 90s, 5m, 2h or 1d (at most ${maxSeconds / 86_400} days), got '${text}'`);
  }
  return seconds;
}
