import { describe, expect, it } from 'vitest';
import { DIURNAL_WEIGHTS, emptyPageView, HourlyViews, splitExactly, TrafficModel, type PageView } from '../../src/main/generate/model';
import { parseGenerateRequest, type GenerateRequest } from '../../src/main/generate/spec';

function modelFor(request: Partial<GenerateRequest> = {}): TrafficModel {
  return new TrafficModel(
    parseGenerateRequest({ from: '2025-03-01T00:00:00Z', to: '2025-03-02T00:00:00Z', sites: 200, views: 50_000, seed: 7, ...request }),
  );
}

function allViews(model: TrafficModel): PageView[] {
  const views: PageView[] = [];
  const cursor = model.cursor();
  const view = emptyPageView();
  while (cursor.next(view)) views.push({ ...view });
  return views;
}

function countBy<T>(items: readonly T[], key: (item: T) => number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

describe('traffic model', () => {
  it('produces the same views for the same seed, and different ones for another seed', () => {
    const first = allViews(modelFor({ seed: 123 }));
    const again = allViews(modelFor({ seed: 123 }));
    const other = allViews(modelFor({ seed: 124 }));
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
    expect(other).toHaveLength(first.length);
  });

  it('produces exactly the requested number of views, also for ranges that cut hours in the middle', () => {
    for (const [from, to, views] of [
      ['2025-03-01T10:17:03.500Z', '2025-03-01T13:02:00Z', 9_999],
      ['2025-03-01T00:00:00Z', '2025-03-08T00:00:00Z', 12_345],
      ['2025-03-01T00:00:00Z', '2025-03-01T00:00:01Z', 17],
    ] as const) {
      const model = modelFor({ from, to, views });
      expect(model.hourly.counts.reduce((sum, count) => sum + count, 0)).toBe(views);
      expect(allViews(model)).toHaveLength(views);
    }
  });

  it('puts every view inside [from, to), on whole seconds', () => {
    const from = '2025-03-01T10:17:03.500Z';
    const to = '2025-03-01T13:02:00.250Z';
    const views = allViews(modelFor({ from, to, views: 20_000 }));
    const seconds = views.map((view) => view.second);
    expect(Math.min(...seconds) * 1000).toBeGreaterThanOrEqual(Date.parse(from));
    expect(Math.max(...seconds) * 1000).toBeLessThan(Date.parse(to));
    expect(seconds.every(Number.isInteger)).toBe(true);
  });

  it('gives site 1 the most views and the long tail few (Zipf popularity)', () => {
    const perSite = countBy(allViews(modelFor({ sites: 1000, views: 100_000 })), (view) => view.siteId);
    const site1 = perSite.get(1) ?? 0;
    expect(Math.max(...perSite.values())).toBe(site1);
    expect(site1).toBeGreaterThan(5 * (perSite.get(10) ?? 0));
    expect(site1).toBeGreaterThan(50 * (perSite.get(1000) ?? 0));
    expect([...perSite.keys()].every((siteId) => siteId >= 1 && siteId <= 1000)).toBe(true);
  });

  it('follows the diurnal curve: the afternoon peak hour gets several times the 03:00 hour', () => {
    const perHour = countBy(allViews(modelFor({ from: '2025-03-01', to: '2025-03-08', views: 70_000 })), (view) =>
      new Date(view.second * 1000).getUTCHours(),
    );
    const peak = perHour.get(15) ?? 0;
    const night = perHour.get(3) ?? 0;
    expect(peak).toBeGreaterThan(5 * night);
    expect(Math.max(...perHour.values())).toBe(peak);
    expect(Math.min(...perHour.values())).toBe(perHour.get(4));
  });

  it('brings visitors back: distinct visitors are well under views, per site and overall', () => {
    const views = allViews(modelFor({ sites: 100, views: 50_000 }));
    const distinct = new Set(views.map((view) => `${view.siteId}/${view.visitorId}`)).size;
    expect(distinct).toBeLessThan(0.7 * views.length);
    expect(distinct).toBeGreaterThan(0.15 * views.length);
    const site1 = views.filter((view) => view.siteId === 1);
    expect(new Set(site1.map((view) => view.visitorId)).size).toBeLessThan(0.7 * site1.length);
  });

  it('keeps visitor ids exact as JavaScript numbers and sizes visitor pools by site traffic', () => {
    const model = modelFor({ sites: 1000, views: 100_000 });
    expect(allViews(model).every((view) => Number.isSafeInteger(view.visitorId) && view.visitorId >= 0)).toBe(true);
    expect(model.visitorPoolSize(1)).toBeGreaterThan(model.visitorPoolSize(100));
    expect(model.visitorPoolSize(1000)).toBeGreaterThanOrEqual(1);
  });
});

describe('splitting views over hours', () => {
  it('splits exactly by largest remainder, ties going to the earlier part', () => {
    expect([...splitExactly(10, [1, 1, 1])]).toEqual([4, 3, 3]);
    expect([...splitExactly(7, [2, 1, 1])]).toEqual([3, 2, 2]);
    expect([...splitExactly(5, [1, 1])]).toEqual([3, 2]);
    expect([...splitExactly(0, [5, 5])]).toEqual([0, 0]);
    const parts = splitExactly(1_000_003, DIURNAL_WEIGHTS);
    expect(parts.reduce((sum, part) => sum + part, 0)).toBe(1_000_003);
  });

  it('weights partial hours by their length and the hour of day', () => {
    // 14:30-16:00 UTC: half of hour 14 (weight 97) and all of hour 15 (weight 100).
    const startSecond = Date.parse('2025-03-01T14:30:00Z') / 1000;
    const hourly = new HourlyViews({ startSecond, endSecond: startSecond + 5400, views: 5346, seed: 1 });
    expect([...hourly.counts]).toEqual([1746, 3600]);
    expect(hourly.endOf(0)).toBe(Date.parse('2025-03-01T15:00:00Z') / 1000);
    expect(hourly.startOf(1)).toBe(Date.parse('2025-03-01T15:00:00Z') / 1000);
  });

  it('spreads sparse traffic over the whole range rather than its first days', () => {
    // 100 views over a year: only peak hours get one, and they must not all be in January.
    const views = allViews(modelFor({ from: '2025-01-01', to: '2026-01-01', views: 100 }));
    const months = new Set(views.map((view) => new Date(view.second * 1000).getUTCMonth()));
    expect(views).toHaveLength(100);
    expect(months.size).toBeGreaterThanOrEqual(10);
  });
});
