/**
 * The next runs of a cron expression being typed, worked out in the page (node-cron, which the scheduler uses, needs
 * Node). It reads the common syntax the way node-cron does, in UTC: five fields (or six, seconds first), each a
 * list of `*`, `n`, `a-b`, `*\/s`, `a-b/s` or `n/s`, with three-letter month and weekday names, weekday 7 as Sunday, and a
 * day that must match both day-of-month and day-of-week. Anything else (L, W, #, nicknames) gets no preview:
 * the scheduler checks it when it is saved. test/unit/schedule-preview.test.ts compares it with node-cron.
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface FieldSpec {
  min: number;
  max: number;
  names?: readonly string[];
  /** The first name's number (1 for January, 0 for Sunday). */
  firstName?: number;
}

const SECOND: FieldSpec = { min: 0, max: 59 };
const MINUTE: FieldSpec = { min: 0, max: 59 };
const HOUR: FieldSpec = { min: 0, max: 23 };
const DAY_OF_MONTH: FieldSpec = { min: 1, max: 31 };
const MONTH: FieldSpec = { min: 1, max: 12, names: MONTHS, firstName: 1 };
const DAY_OF_WEEK: FieldSpec = { min: 0, max: 7, names: WEEKDAYS, firstName: 0 };

function parseNumber(text: string, spec: FieldSpec): number | undefined {
  const named = spec.names?.indexOf(text.toLowerCase()) ?? -1;
  if (named >= 0) return named + (spec.firstName ?? 0);
  if (!/^\d+$/.test(text)) return undefined;
  const value = Number(text);
  return value >= spec.min && value <= spec.max ? value : undefined;
}

/** The values one field matches, or undefined when this preview does not read it. */
function parseField(text: string, spec: FieldSpec): Set<number> | undefined {
  const values = new Set<number>();
  for (const item of text.split(',')) {
    const [range, stepText, extra] = item.split('/');
    if (range === undefined || extra !== undefined) return undefined;
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1 || (stepText !== undefined && !/^\d+$/.test(stepText))) return undefined;
    let from: number | undefined;
    let to: number | undefined;
    if (range === '*') [from, to] = [spec.min, spec.max];
    else if (range.includes('-')) {
      const [low, high, more] = range.split('-');
      if (low === undefined || high === undefined || more !== undefined) return undefined;
      [from, to] = [parseNumber(low, spec), parseNumber(high, spec)];
    } else {
      from = parseNumber(range, spec);
      to = stepText === undefined ? from : spec.max;
    }
    if (from === undefined || to === undefined || from > to) return undefined;
    for (let value = from; value <= to; value += step) values.add(value);
  }
  return values;
}

interface ParsedCron {
  seconds: Set<number>;
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  weekdays: Set<number>;
}

function parseCron(cron: string): ParsedCron | undefined {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return undefined;
  const [second, minute, hour, day, month, weekday] = fields.length === 6 ? fields : ['0', ...fields];
  const parsed = {
    seconds: parseField(second!, SECOND),
    minutes: parseField(minute!, MINUTE),
    hours: parseField(hour!, HOUR),
    days: parseField(day!, DAY_OF_MONTH),
    months: parseField(month!, MONTH),
    weekdays: parseField(weekday!, DAY_OF_WEEK),
  };
  if (Object.values(parsed).some((values) => values === undefined)) return undefined;
  const result = parsed as ParsedCron;
  if (result.weekdays.has(7)) result.weekdays.add(0);
  return result;
}

/** Years searched per run wanted: a cron that matches only on 29 February still gets all its runs. */
const YEARS_PER_RUN = 4;

/**
 * The next `count` instants after `after` that `cron` matches, in UTC; `undefined` when this preview cannot read
 * the expression, and fewer than `count` (maybe none) when it matches that rarely or never.
 */
export function previewNextRuns(cron: string, after: Date, count = 3): Date[] | undefined {
  const parsed = parseCron(cron);
  if (!parsed) return undefined;
  const runs: Date[] = [];
  const limit = Date.UTC(after.getUTCFullYear() + YEARS_PER_RUN * count + 1, 0, 1);
  // Start at the next whole second after `after`.
  let at = new Date(Math.floor(after.getTime() / 1000) * 1000 + 1000);
  while (runs.length < count && at.getTime() < limit) {
    const [year, month, day, hour, minute] = [at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate(), at.getUTCHours(), at.getUTCMinutes()];
    if (!parsed.months.has(month + 1)) at = new Date(Date.UTC(year, month + 1, 1));
    else if (!parsed.days.has(day) || !parsed.weekdays.has(at.getUTCDay())) at = new Date(Date.UTC(year, month, day + 1));
    else if (!parsed.hours.has(hour)) at = new Date(Date.UTC(year, month, day, hour + 1));
    else if (!parsed.minutes.has(minute)) at = new Date(Date.UTC(year, month, day, hour, minute + 1));
    else if (!parsed.seconds.has(at.getUTCSeconds())) at = new Date(at.getTime() + 1000);
    else {
      runs.push(at);
      at = new Date(at.getTime() + 1000);
    }
  }
  return runs;
}
