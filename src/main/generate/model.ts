import { mix32, Random, siteKeyFor, visitorIdFor } from './random';
import type { GenerateSpec } from './spec';

/**
 * The synthetic traffic model: which site, second, visitor, path and referrer each page view gets.
 * Pure and lazy: views come out one at a time from a cursor, and no state grows with the number of views,
 * only with the number of sites and hours.
 */

/** Relative traffic per UTC hour of day: quiet around 03:00, peak mid-afternoon (15:00). */
export const DIURNAL_WEIGHTS: readonly number[] = [
  30, 22, 16, 12, 11, 13, 20, 32, 48, 62, 72, 80, 86, 92, 97, 100, 98, 92, 84, 76, 68, 58, 48, 38,
];

/** Expected distinct visitors per expected view of a site: the pool a site's visitors are drawn from. */
const VISITORS_PER_VIEW = 0.6;
/**
 * Visitor indexes are drawn as pool × u^LOYALTY: low indexes are loyal visitors who come back often,
 * the long tail mostly visits once. With 0.6 this gives roughly 40 % distinct visitors per view.
 */
const LOYALTY = 2;

export const PATHS: readonly { path: string; weight: number }[] = [
  { path: '/', weight: 300 },
  { path: '/pricing', weight: 90 },
  { path: '/features', weight: 70 },
  { path: '/blog', weight: 60 },
  { path: '/blog/introducing-realtime-dashboards', weight: 45 },
  { path: '/blog/how-we-scaled-to-a-billion-events', weight: 35 },
  { path: '/blog/privacy-first-analytics', weight: 30 },
  { path: '/blog/2024-year-in-review', weight: 18 },
  { path: '/docs', weight: 55 },
  { path: '/docs/getting-started', weight: 50 },
  { path: '/docs/installation', weight: 35 },
  { path: '/docs/api/events', weight: 25 },
  { path: '/docs/api/authentication', weight: 20 },
  { path: '/docs/integrations/wordpress', weight: 14 },
  { path: '/docs/faq', weight: 16 },
  { path: '/about', weight: 22 },
  { path: '/careers', weight: 12 },
  { path: '/contact', weight: 18 },
  { path: '/login', weight: 65 },
  { path: '/signup', weight: 40 },
  { path: '/account/settings', weight: 20 },
  { path: '/products/starter', weight: 25 },
  { path: '/products/team', weight: 22 },
  { path: '/products/enterprise', weight: 12 },
  { path: '/search?q=analytics', weight: 10 },
  { path: '/changelog', weight: 9 },
  { path: '/legal/privacy', weight: 6 },
  { path: '/legal/terms', weight: 5 },
];

/** `null` is a direct visit (no Referer header). */
export const REFERRERS: readonly { referrer: string | null; weight: number }[] = [
  { referrer: null, weight: 420 },
  { referrer: 'https://www.google.com/', weight: 260 },
  { referrer: 'https://www.bing.com/', weight: 35 },
  { referrer: 'https://duckduckgo.com/', weight: 25 },
  { referrer: 'https://news.ycombinator.com/', weight: 30 },
  { referrer: 'https://www.reddit.com/', weight: 28 },
  { referrer: 'https://t.co/', weight: 24 },
  { referrer: 'https://www.facebook.com/', weight: 22 },
  { referrer: 'https://www.linkedin.com/', weight: 18 },
  { referrer: 'https://github.com/', weight: 20 },
  { referrer: 'https://stackoverflow.com/questions', weight: 12 },
  { referrer: 'https://mail.google.com/', weight: 10 },
  { referrer: 'https://newsletter.example.com/issue/42', weight: 8 },
];

/** Picks an index in proportion to fixed weights, by binary search over the running totals. */
export class WeightedTable {
  private readonly cumulative: Float64Array;

  constructor(weights: ArrayLike<number>) {
    this.cumulative = new Float64Array(weights.length);
    let total = 0;
    for (let i = 0; i < weights.length; i++) {
      total += weights[i]!;
      this.cumulative[i] = total;
    }
  }

  pick(unit: number): number {
    const cumulative = this.cumulative;
    const target = unit * cumulative[cumulative.length - 1]!;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (cumulative[middle]! > target) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}

/**
 * Splits `total` into integer parts proportional to integer weights, exactly (largest remainder; equal
 * remainders are ordered by `tieRank`, lowest first, by default the earlier part). Integer arithmetic only,
 * so the split never depends on float rounding. Typed arrays, because decades hold 600,000 hours.
 */
export function splitExactly(total: number, weights: ArrayLike<number>, tieRank: (index: number) => number = (index) => index): Float64Array {
  let weightSum = 0;
  let heaviest = 0;
  for (let index = 0; index < weights.length; index++) {
    weightSum += weights[index]!;
    heaviest = Math.max(heaviest, weights[index]!);
  }
  if (weightSum <= 0) throw new RangeError('weights must sum to more than zero');
  if (!Number.isSafeInteger(total * heaviest) || !Number.isSafeInteger(weightSum)) throw new RangeError('total × weight exceeds exact integer range');
  const parts = new Float64Array(weights.length);
  const remainders = new Float64Array(weights.length);
  let assigned = 0;
  for (let index = 0; index < weights.length; index++) {
    const scaled = total * weights[index]!;
    let quotient = Math.floor(scaled / weightSum);
    let remainder = scaled - quotient * weightSum;
    // Correct the one-off a rounded division can cause near a whole number.
    if (remainder < 0) {
      quotient -= 1;
      remainder += weightSum;
    } else if (remainder >= weightSum) {
      quotient += 1;
      remainder -= weightSum;
    }
    parts[index] = quotient;
    remainders[index] = remainder;
    assigned += quotient;
  }
  const order = new Uint32Array(weights.length);
  for (let index = 0; index < order.length; index++) order[index] = index;
  order.sort((a, b) => remainders[b]! - remainders[a]! || tieRank(a) - tieRank(b) || a - b);
  for (let i = 0; i < total - assigned; i++) parts[order[i]!]! += 1;
  return parts;
}

/**
 * The range cut at UTC hour boundaries (the first and last hour may be partial), with the views split
 * over the hours by the diurnal curve weighted by how many seconds of each hour are in the range.
 */
export class HourlyViews {
  private readonly firstHour: number;
  /** Views per hour, index 0 being the hour that holds startSecond. */
  readonly counts: Float64Array;

  constructor(private readonly range: Pick<GenerateSpec, 'startSecond' | 'endSecond' | 'views' | 'seed'>) {
    this.firstHour = Math.floor(range.startSecond / 3600);
    const hours = Math.floor((range.endSecond - 1) / 3600) - this.firstHour + 1;
    const weights = new Float64Array(hours);
    for (let index = 0; index < hours; index++) {
      weights[index] = DIURNAL_WEIGHTS[(this.firstHour + index) % 24]! * (this.endOf(index) - this.startOf(index));
    }
    // With fewer views than hours, every hour of a tie gets 0 or 1 view; a seeded shuffle of the ties
    // spreads those views over the whole range instead of piling them into its first days.
    const seedKey = mix32(range.seed);
    this.counts = splitExactly(range.views, weights, (index) => mix32((this.firstHour + index) ^ seedKey));
  }

  get hours(): number {
    return this.counts.length;
  }

  startOf(index: number): number {
    return Math.max((this.firstHour + index) * 3600, this.range.startSecond);
  }

  endOf(index: number): number {
    return Math.min((this.firstHour + index + 1) * 3600, this.range.endSecond);
  }
}

/** One generated page view; the cursor overwrites the same object to avoid an allocation per row. */
export interface PageView {
  siteId: number;
  /** Seconds since the Unix epoch, UTC. */
  second: number;
  visitorId: number;
  /** Index into PATHS. */
  pathIndex: number;
  /** Index into REFERRERS. */
  referrerIndex: number;
}

/** The traffic of one spec. Holds per-site tables (sites ≤ 1 M) and per-hour counts, never per-view state. */
export class TrafficModel {
  readonly hourly: HourlyViews;
  private readonly siteTable: WeightedTable;
  private readonly pathTable = new WeightedTable(PATHS.map((entry) => entry.weight));
  private readonly referrerTable = new WeightedTable(REFERRERS.map((entry) => entry.weight));
  private readonly visitorPools: Uint32Array;
  private readonly siteKeys: Uint32Array;

  constructor(readonly spec: GenerateSpec) {
    this.hourly = new HourlyViews(spec);
    // Zipf popularity with exponent 1: site k gets views in proportion to 1/k.
    const popularity = new Float64Array(spec.sites);
    let harmonic = 0;
    for (let k = 1; k <= spec.sites; k++) {
      popularity[k - 1] = 1 / k;
      harmonic += 1 / k;
    }
    this.siteTable = new WeightedTable(popularity);
    this.visitorPools = new Uint32Array(spec.sites + 1);
    this.siteKeys = new Uint32Array(spec.sites + 1);
    for (let siteId = 1; siteId <= spec.sites; siteId++) {
      const expectedViews = (spec.views * popularity[siteId - 1]!) / harmonic;
      this.visitorPools[siteId] = Math.max(1, Math.ceil(expectedViews * VISITORS_PER_VIEW));
      this.siteKeys[siteId] = siteKeyFor(spec.seed, siteId);
    }
  }

  /** How many different visitors a site's views are drawn from. */
  visitorPoolSize(siteId: number): number {
    return this.visitorPools[siteId] ?? 0;
  }

  cursor(): PageViewCursor {
    return new PageViewCursor(this);
  }

  /** Fills `out` with one view at a second in [startSecond, endSecond), drawing from `random`. */
  draw(random: Random, startSecond: number, endSecond: number, out: PageView): void {
    const siteId = this.siteTable.pick(random.float()) + 1;
    out.siteId = siteId;
    out.second = startSecond + Math.floor(random.float() * (endSecond - startSecond));
    const loyalty = random.float() ** LOYALTY;
    out.visitorId = visitorIdFor(this.siteKeys[siteId]!, Math.floor(this.visitorPools[siteId]! * loyalty));
    out.pathIndex = this.pathTable.pick(random.float());
    out.referrerIndex = this.referrerTable.pick(random.float());
  }
}

/**
 * Walks the views hour by hour. Each hour has its own random stream seeded by (seed, hour index),
 * so the views are a pure function of the spec, whoever consumes them and however fast.
 */
export class PageViewCursor {
  private hourIndex = -1;
  private remainingInHour = 0;
  private startSecond = 0;
  private endSecond = 0;
  private random: Random | undefined;

  constructor(private readonly model: TrafficModel) {}

  /** Writes the next view into `out`; false once all are out. */
  next(out: PageView): boolean {
    const hourly = this.model.hourly;
    while (this.remainingInHour === 0) {
      this.hourIndex += 1;
      if (this.hourIndex >= hourly.hours) return false;
      this.remainingInHour = hourly.counts[this.hourIndex]!;
      this.startSecond = hourly.startOf(this.hourIndex);
      this.endSecond = hourly.endOf(this.hourIndex);
      if (this.remainingInHour > 0) this.random = new Random(this.model.spec.seed, this.hourIndex);
    }
    this.remainingInHour -= 1;
    this.model.draw(this.random!, this.startSecond, this.endSecond, out);
    return true;
  }
}

export function emptyPageView(): PageView {
  return { siteId: 0, second: 0, visitorId: 0, pathIndex: 0, referrerIndex: 0 };
}
