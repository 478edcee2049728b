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
