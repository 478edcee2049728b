/** What every time-series chart of the console shares: its axis colours, sizing, legend and UTC tooltip title. */

export const AXIS_TEXT = '#909296';
export const GRID = 'rgba(255, 255, 255, 0.07)';

/** Sized by its box, drawn at once (charts refresh every few seconds), data already given as {x, y}. */
export const CHART_BASE = { responsive: true, maintainAspectRatio: false, animation: false, parsing: false } as const;

export const CHART_LEGEND = { position: 'top', align: 'end', labels: { color: AXIS_TEXT, usePointStyle: true, pointStyle: 'circle', boxHeight: 6 } } as const;

/** A point's time to the minute, for tooltips: `2026-12-02 16:05 UTC`. */
export function utcMinute(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
