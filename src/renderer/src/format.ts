export { formatBytes } from '../../shared/format';

export function formatLatency(ms: number | undefined): string {
  if (ms === undefined) return '—';
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(0)} ms`;
}

/** Row estimates are approximate by nature, so they are shown rounded (12.4 k, 3.1 M). */
export function formatRowEstimate(rows: number): string {
  if (rows < 1000) return String(rows);
  const units: Array<[number, string]> = [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  const [size, suffix] = units.find(([limit]) => rows >= limit) ?? [1, ''];
  return `${(rows / size).toFixed(rows / size < 100 ? 1 : 0)} ${suffix}`;
}

export function formatClock(iso: string): string {
  return new Date(iso).toLocaleTimeString('en-GB', { hour12: false });
}

export function formatAge(seconds: number): string {
  if (seconds < 2) return 'just now';
  if (seconds < 120) return `${Math.floor(seconds)} s ago`;
  return `${Math.floor(seconds / 60)} min ago`;
}

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** A span of time in the two largest units that matter: `840 ms`, `4.21 s`, `3 min 12 s`, `2 h 05 min`, `3 d 4 h`. */
export function formatDuration(ms: number): string {
  const span = Math.max(0, ms);
  if (span < SECOND_MS) return `${Math.round(span)} ms`;
  if (span < 10 * SECOND_MS) return `${(span / SECOND_MS).toFixed(2)} s`;
  if (span < MINUTE_MS) return `${(span / SECOND_MS).toFixed(1)} s`;
  if (span < HOUR_MS) return `${Math.floor(span / MINUTE_MS)} min ${Math.floor((span % MINUTE_MS) / SECOND_MS)} s`;
  if (span < DAY_MS) return `${Math.floor(span / HOUR_MS)} h ${String(Math.floor((span % HOUR_MS) / MINUTE_MS)).padStart(2, '0')} min`;
  return `${Math.floor(span / DAY_MS)} d ${Math.floor((span % DAY_MS) / HOUR_MS)} h`;
}

/** `in 23 min` or `4 h 05 min ago`, for times on either side of now. */
export function formatRelative(iso: string, now: number): string {
  // Whole seconds: a relative time that ticks in hundredths reads as noise.
  const delta = Math.round((Date.parse(iso) - now) / SECOND_MS) * SECOND_MS;
  if (Math.abs(delta) < 2 * SECOND_MS) return 'now';
  if (Math.abs(delta) < MINUTE_MS) return delta > 0 ? `in ${Math.abs(delta) / SECOND_MS} s` : `${Math.abs(delta) / SECOND_MS} s ago`;
  return delta > 0 ? `in ${formatDuration(delta)}` : `${formatDuration(-delta)} ago`;
}

/** Strata keeps every time in UTC (windows start on UTC hours, days and months), so the console shows UTC. */
export function formatUtc(iso: string, precision: 'minute' | 'second' = 'minute'): string {
  const text = new Date(iso).toISOString().replace('T', ' ');
  return precision === 'second' ? text.slice(0, 19) : text.slice(0, 16);
}

/** A rollup window as its level names it: `2025-03-01 14:00–15:00`, `2025-03-01`, `2025-03`. */
export function formatWindow(level: 'hourly' | 'daily' | 'monthly', startIso: string, endIso: string): string {
  const start = new Date(startIso).toISOString();
  if (level === 'monthly') return start.slice(0, 7);
  if (level === 'daily') return start.slice(0, 10);
  return `${start.slice(0, 10)} ${start.slice(11, 16)}–${new Date(endIso).toISOString().slice(11, 16)}`;
}

export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}
