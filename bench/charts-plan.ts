/**
 * The data plan of the charts benchmark, pure (no I/O, no clock of its own): which periods each table gets, the
 * four chart ranges, and the sample sites that also get a year of raw page views.
 *
 * Every range ends on a boundary the rollups have reached (the current hour, today, this month), so a chart reads
 * rolled-up rows only and its answer can be compared with the raw rows it came from.
 */
import { shiftPeriod } from '../src/main/schema/partitions';

export type ChartName = '24h' | '30d' | '1y' | '5y';
export const CHART_NAMES: readonly ChartName[] = ['24h', '30d', '1y', '5y'];

export interface Span {
  from: Date;
  to: Date;
}

export interface SampleSite {
  siteId: number;
  /** Average page views a day; each day gets 75–125 % of it (`viewsOnDay`). */
  viewsPerDay: number;
  /** Distinct visitor ids the site's views draw from, uniformly: about a visit in 60 days per visitor. */
  visitorPool: number;
  heavy: boolean;
}

export interface ChartsPlanOptions {
  sites: number;
  /** Sample sites with raw rows, the heavy ones included. */
  sampleSites: number;
  heavySites: number;
  /** Views a day of an ordinary sample site: spread geometrically from the first to the second. */
  sampleViews: readonly [number, number];
  heavyViews: number;
  now: Date;
}

export interface ChartsPlan {
  sites: number;
  /** The rollups' watermarks: hourly, daily and monthly are complete up to these. */
  hourStart: Date;
  todayStart: Date;
  monthStart: Date;
  /** Every site: 7 days of hourly rows, a year of daily rows, 5 years of monthly rows. */
  hourly: Span;
  daily: Span;
  monthly: Span;
  /** Sample sites: raw rows over this span (whole months, so their monthly rows come from raw too) … */
  raw: Span;
  /** … and hourly rows over 30 days, for the naive 30-day chart that sums hourly rows. */
  sampleHourly: Span;
  charts: Record<ChartName, Span>;
  sample: SampleSite[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const VISITOR_POOL_DAYS = 60;

/** The plan for `options`; refuses a sample that does not fit between the sites. */
export function chartsPlan(options: ChartsPlanOptions): ChartsPlan {
  const { sites, sampleSites, heavySites, now } = options;
  if (sampleSites < 1 || sampleSites * 2 > sites) throw new RangeError(`the sample (${sampleSites} sites) must be at least 1 and at most half of the ${sites} sites`);
  if (heavySites > sampleSites) throw new RangeError(`${heavySites} heavy sites do not fit in a sample of ${sampleSites}`);
  const hourStart = shiftPeriod(now, 'hour', 0);
  const todayStart = shiftPeriod(now, 'day', 0);
  const monthStart = shiftPeriod(now, 'month', 0);
  const yearAgo = new Date(todayStart.getTime() - 365 * DAY);
  const monthsBack = (months: number) => shiftPeriod(monthStart, 'month', -months);
  return {
    sites,
    hourStart,
    todayStart,
    monthStart,
    hourly: { from: new Date(hourStart.getTime() - 7 * DAY), to: hourStart },
    daily: { from: yearAgo, to: todayStart },
    monthly: { from: monthsBack(60), to: monthStart },
    // 12 months before this one always starts on or before the day a year ago, leap years included.
    raw: { from: monthsBack(12), to: hourStart },
    sampleHourly: { from: new Date(todayStart.getTime() - 30 * DAY), to: hourStart },
    charts: {
      '24h': { from: new Date(hourStart.getTime() - DAY), to: hourStart },
      '30d': { from: new Date(todayStart.getTime() - 30 * DAY), to: todayStart },
      '1y': { from: yearAgo, to: todayStart },
      '5y': { from: monthsBack(60), to: monthStart },
    },
    sample: sampleOf(options),
  };
}

/**
 * Sample sites spread evenly over 1..sites, alternating odd and even ids so both shards of `site_id % 2` get
 * half; the last `heavySites` of them are the busy ones (their daily sketches are dense).
 */
function sampleOf({ sites, sampleSites, heavySites, sampleViews, heavyViews }: ChartsPlanOptions): SampleSite[] {
  const ordinary = sampleSites - heavySites;
  const [low, high] = sampleViews;
  return Array.from({ length: sampleSites }, (_, index) => {
    let siteId = 1 + Math.floor((index * sites) / sampleSites);
    if (siteId % 2 !== index % 2) siteId += siteId < sites ? 1 : -1;
    const heavy = index >= ordinary;
    const viewsPerDay = heavy ? heavyViews : Math.round(ordinary === 1 ? low : low * (high / low) ** (index / (ordinary - 1)));
    return { siteId, viewsPerDay, visitorPool: viewsPerDay * VISITOR_POOL_DAYS, heavy };
  });
}

/** Page views of a sample site on day `day` (days since raw.from): 75–125 % of its average, fixed per (site, day). */
export function viewsOnDay(site: Pick<SampleSite, 'siteId' | 'viewsPerDay'>, day: number): number {
  return Math.floor((site.viewsPerDay * (75 + ((day * 37 + site.siteId) % 51))) / 100);
}

/** viewsOnDay as SQL over a day column, in integers (DIV) so the shard and rawRowsPlanned count alike. */
export function viewsOnDaySql(site: Pick<SampleSite, 'siteId' | 'viewsPerDay'>, dayColumn: string): string {
  return `((${site.viewsPerDay} * (75 + (${dayColumn} * 37 + ${site.siteId}) % 51)) DIV 100)`;
}

/** Whole days in a span. */
export function daysIn(span: Span): number {
  return Math.ceil((span.to.getTime() - span.from.getTime()) / DAY);
}

/** Raw rows the sample gets over `plan.raw`, for the progress line and to check the load. */
export function rawRowsPlanned(plan: ChartsPlan): number {
  const fullDays = Math.floor((plan.hourStart.getTime() - plan.raw.from.getTime()) / DAY);
  const lastDayHours = (plan.hourStart.getTime() - plan.raw.from.getTime() - fullDays * DAY) / HOUR;
  let rows = 0;
  for (const site of plan.sample) {
    for (let day = 0; day < fullDays; day++) rows += viewsOnDay(site, day);
    const views = viewsOnDay(site, fullDays);
    // A day's views are spread evenly over its seconds; the last day stops at the current hour.
    for (let view = 0; view < views; view++) if (Math.floor((view * 86_400) / views) < lastDayHours * 3600) rows += 1;
  }
  return rows;
}

/** Rollup rows every site gets (before the sample's are replaced by rows from raw). */
export function aggregateRowsPlanned(plan: ChartsPlan): { hourly: number; daily: number; monthly: number } {
  const months = (plan.monthly.to.getUTCFullYear() - plan.monthly.from.getUTCFullYear()) * 12 + plan.monthly.to.getUTCMonth() - plan.monthly.from.getUTCMonth();
  return {
    hourly: plan.sites * Math.round((plan.hourly.to.getTime() - plan.hourly.from.getTime()) / HOUR),
    daily: plan.sites * daysIn(plan.daily),
    monthly: plan.sites * months,
  };
}

/** A small seeded generator (mulberry32), so two runs with the same seed time the same sites. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
