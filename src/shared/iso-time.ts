/**
 * The ISO-8601 UTC times Strata takes on its command line: whatever it prints itself must be accepted back, so
 * `2026-11-30`, `2026-11-30T05Z` (partitions list), `2026-11-30T05:00Z` (rollup and runs) and
 * `2026-11-30T05:00:00.000Z` are all read, as are the `+00:00` forms. Other offsets are refused, not converted.
 */

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2}))?$/;

/** The earliest and latest times a command takes; far outside them a typo is likelier than real data. */
export const EARLIEST_TIME = new Date('2000-01-01T00:00:00Z');
export const LATEST_YEARS_AHEAD = 1;

export type IsoTimeParse = { ok: true; date: Date } | { ok: false; reason: 'format' | 'offset' };

/** Reads a UTC time, checking the calendar too (no 30 February, no hour 24). */
export function parseIsoUtc(text: string): IsoTimeParse {
  const match = ISO_TIME.exec(text.trim());
  if (!match) return { ok: false, reason: 'format' };
  const [, year, month, day, hour = '0', minute = '0', second = '0', fraction = '0', zone] = match;
  if (match[4] !== undefined && zone === undefined) return { ok: false, reason: 'format' };
  if (zone && zone !== 'Z' && !/^[+-]00:?00$/.test(zone)) return { ok: false, reason: 'offset' };
  const fields = [year, month, day, hour, minute, second].map(Number) as [number, number, number, number, number, number];
  const millis = Math.floor(Number(`0.${fraction}`) * 1000);
  const date = new Date(Date.UTC(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5], millis));
  const roundTrip = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()];
  if (roundTrip.some((value, index) => value !== fields[index])) return { ok: false, reason: 'format' };
  return { ok: true, date };
}

/** The latest time a command takes as of `now`. */
export function latestTime(now: Date): Date {
  const latest = new Date(now);
  latest.setUTCFullYear(latest.getUTCFullYear() + LATEST_YEARS_AHEAD);
  return latest;
}
