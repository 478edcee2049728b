import { describe, expect, it } from 'vitest';
import { aggregateRowsPlanned, chartsPlan, rawRowsPlanned, seededRandom, viewsOnDay, type ChartsPlanOptions } from '../../bench/charts-plan';

const base: ChartsPlanOptions = { sites: 100_000, sampleSites: 50, heavySites: 2, sampleViews: [10, 1000], heavyViews: 5000, now: new Date('2026-12-02T15:55:23Z') };
const iso = (at: Date) => at.toISOString();

describe('the charts benchmark plan', () => {
  it('ends every chart on a boundary the rollups reached: the current hour, today, this month', () => {
    const plan = chartsPlan(base);
    expect([plan.hourStart, plan.todayStart, plan.monthStart].map(iso)).toEqual(['2026-12-02T15:00:00.000Z', '2026-12-02T00:00:00.000Z', '2026-12-01T00:00:00.000Z']);
    expect(Object.fromEntries(Object.entries(plan.charts).map(([name, span]) => [name, [iso(span.from), iso(span.to)]]))).toEqual({
      '24h': ['2026-12-01T15:00:00.000Z', '2026-12-02T15:00:00.000Z'],
      '30d': ['2026-11-02T00:00:00.000Z', '2026-12-02T00:00:00.000Z'],
      '1y': ['2025-12-02T00:00:00.000Z', '2026-12-02T00:00:00.000Z'],
      '5y': ['2021-12-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z'],
    });
    expect([iso(plan.hourly.from), iso(plan.daily.from), iso(plan.monthly.from)]).toEqual(['2026-11-25T15:00:00.000Z', '2025-12-02T00:00:00.000Z', '2021-12-01T00:00:00.000Z']);
    expect([iso(plan.raw.from), iso(plan.raw.to)]).toEqual(['2025-12-01T00:00:00.000Z', '2026-12-02T15:00:00.000Z']);
    expect(aggregateRowsPlanned(plan)).toEqual({ hourly: 16_800_000, daily: 36_500_000, monthly: 6_000_000 });
  });

  it('starts the raw rows on a whole month no later than the year chart, across a leap day', () => {
    for (const now of ['2028-03-01T00:30:00Z', '2028-02-29T23:59:59Z', '2027-03-01T12:00:00Z', '2026-01-31T00:00:00Z']) {
      const plan = chartsPlan({ ...base, now: new Date(now) });
      expect(plan.raw.from.getUTCDate()).toBe(1);
      expect(plan.raw.from.getTime()).toBeLessThanOrEqual(plan.charts['1y'].from.getTime());
      expect(plan.sampleHourly.from.getTime()).toBe(plan.charts['30d'].from.getTime());
    }
  });

  it('spreads the sample over the sites, half on each shard of site_id % 2, the heavy sites last', () => {
    const plan = chartsPlan(base);
    const ids = plan.sample.map((site) => site.siteId);
    expect(new Set(ids).size).toBe(50);
    expect(ids.every((id) => id >= 1 && id <= 100_000)).toBe(true);
    expect(ids.filter((id) => id % 2 === 0)).toHaveLength(25);
    expect(plan.sample.map((site) => site.heavy)).toEqual([...Array<boolean>(48).fill(false), true, true]);
    expect(plan.sample.map((site) => site.viewsPerDay).slice(0, 48)).toEqual([...plan.sample.map((site) => site.viewsPerDay).slice(0, 48)].sort((a, b) => a - b));
    expect([plan.sample[0]!.viewsPerDay, plan.sample[47]!.viewsPerDay, plan.sample[49]!.viewsPerDay]).toEqual([10, 1000, 5000]);
    expect(plan.sample[49]!.visitorPool).toBe(300_000);
  });

  it('refuses a sample that does not fit', () => {
    expect(() => chartsPlan({ ...base, sites: 10, sampleSites: 6 })).toThrow(/at most half/);
    expect(() => chartsPlan({ ...base, sampleSites: 2, heavySites: 3 })).toThrow(/do not fit/);
  });

  it('gives each day 75–125 % of a site’s average views', () => {
    const views = Array.from({ length: 366 }, (_, day) => viewsOnDay({ siteId: 7, viewsPerDay: 1000 }, day));
    expect(Math.min(...views)).toBe(750);
    expect(Math.max(...views)).toBe(1250);
  });

  it('counts the raw rows it plans: whole days, then the last day up to the current hour', () => {
    const atMidnight = chartsPlan({ ...base, sites: 2, sampleSites: 1, heavySites: 0, sampleViews: [100, 100], now: new Date('2026-03-01T00:00:00Z') });
    const site = atMidnight.sample[0]!;
    expect(site).toEqual({ siteId: 2, viewsPerDay: 100, visitorPool: 6000, heavy: false });
    const days = Math.round((atMidnight.raw.to.getTime() - atMidnight.raw.from.getTime()) / 86_400_000);
    expect(days).toBe(365);
    const whole = Array.from({ length: days }, (_, day) => viewsOnDay(site, day)).reduce((sum, views) => sum + views, 0);
    expect(rawRowsPlanned(atMidnight)).toBe(whole);
    const atNoon = chartsPlan({ ...base, sites: 2, sampleSites: 1, heavySites: 0, sampleViews: [100, 100], now: new Date('2026-03-01T12:30:00Z') });
    // Half of the last day's views fall before 12:00 (their seconds are spread evenly from 00:00).
    expect(rawRowsPlanned(atNoon)).toBe(whole + Math.ceil(viewsOnDay(site, days) / 2));
  });

  it('draws the same sites for the same seed', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, seededRandom(seed));
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    expect(draw(1).every((value) => value >= 0 && value < 1)).toBe(true);
  });
});
