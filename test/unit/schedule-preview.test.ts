import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { nextRuns } from '../../src/main/scheduler/planner';
import { previewNextRuns } from '../../src/renderer/src/pages/schedules/next-runs';

/** An instant between whole minutes, so "the next run" cannot be the current instant by accident. */
const NOW = new Date('2025-03-01T10:17:23.456Z');

describe('the schedules page previews a draft cron the way the scheduler (node-cron) will run it', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(NOW);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const expressions = [
    '0 * * * *',
    '5 * * * *',
    '0 2 * * *',
    '0 3 1 * *',
    '*/15 * * * *',
    '10-20/5 4 * * *',
    '0 0 * * mon',
    '0 0 * * 7',
    '0 12 * jun-aug 1-5',
    '30 9 15 * 2',
    '0 0 29 feb *',
    '15,45 */6 * * *',
    '*/20 * * * * *',
    '0 30 8 * * sat',
  ];
  for (const cron of expressions) {
    it(`gives the same next runs as node-cron for "${cron}"`, () => {
      const preview = previewNextRuns(cron, NOW, 3)?.map((date) => date.toISOString());
      expect(preview).toEqual(nextRuns(cron, 3).map((date) => date.toISOString()));
    });
  }

  it('gives no preview for what it does not read, rather than a wrong one', () => {
    expect(previewNextRuns('not a cron', NOW)).toBeUndefined();
    expect(previewNextRuns('0 0 L * *', NOW)).toBeUndefined();
    expect(previewNextRuns('61 * * * *', NOW)).toBeUndefined();
    expect(previewNextRuns('* * *', NOW)).toBeUndefined();
  });
});
