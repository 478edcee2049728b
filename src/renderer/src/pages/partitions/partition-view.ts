import type { PartitionInfo, PartitionWarningKind } from '../../../../shared/partitions';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export const WARNING_WORDS: Record<PartitionWarningKind, string> = {
  'catch-all-rows': 'rows in the catch-all',
  'too-few-ahead': 'too few partitions ahead',
  'not-partitioned': 'not partitioned',
  'table-missing': 'table missing',
  'name-conflict': 'partition name conflict',
};

/** Rows past the last partition and tables Strata cannot maintain are red; a short runway is orange. */
export const WARNING_COLOUR: Record<PartitionWarningKind, 'red' | 'orange'> = {
  'catch-all-rows': 'red',
  'too-few-ahead': 'orange',
  'not-partitioned': 'orange',
  'table-missing': 'red',
  'name-conflict': 'red',
};

export const shortTable = (table: string) => table.replace(/^analytics_/, '');

export const partitionBytes = (partition: PartitionInfo) => partition.dataBytes + partition.indexBytes;

/** A partition as drawn on a timeline: unbounded ends get one typical period so they have a width. */
export interface TimelineSegment {
  partition: PartitionInfo;
  start: number;
  end: number;
  /** The first partition also holds anything earlier than its drawn start. */
  openStart: boolean;
  /** The catch-all holds anything later than its drawn end. */
  openEnd: boolean;
}

function typicalSpan(partitions: readonly PartitionInfo[]): number {
  const spans = partitions.filter((partition) => partition.from !== null && partition.to !== null).map((partition) => Date.parse(partition.to!) - Date.parse(partition.from!));
  if (spans.length === 0) return DAY_MS;
  const sorted = spans.sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export function timelineSegments(partitions: readonly PartitionInfo[]): TimelineSegment[] {
  const span = typicalSpan(partitions);
  return partitions.flatMap((partition): TimelineSegment[] => {
    const to = partition.to === null ? undefined : Date.parse(partition.to);
    const from = partition.from === null ? undefined : Date.parse(partition.from);
    if (to === undefined && from === undefined) return [];
    const start = from ?? to! - span;
    const end = to ?? from! + span;
    return [{ partition, start, end, openStart: from === undefined, openEnd: to === undefined }];
  });
}

export interface AxisTick {
  at: number;
  label: string;
}

interface TickStep {
  unit: 'hour' | 'day' | 'month' | 'year';
  count: number;
  approxMs: number;
}

const TICK_STEPS: TickStep[] = [
  ...[1, 3, 6, 12].map((count) => ({ unit: 'hour' as const, count, approxMs: count * HOUR_MS })),
  ...[1, 2, 7, 14].map((count) => ({ unit: 'day' as const, count, approxMs: count * DAY_MS })),
  ...[1, 3, 6].map((count) => ({ unit: 'month' as const, count, approxMs: count * 30.4 * DAY_MS })),
  ...[1, 2, 5, 10].map((count) => ({ unit: 'year' as const, count, approxMs: count * 365 * DAY_MS })),
];

function firstTick(min: number, step: TickStep): Date {
  const at = new Date(min);
  const ceil = (value: number) => Math.ceil(value / step.count) * step.count;
  switch (step.unit) {
    case 'hour':
      return new Date(ceil(min / HOUR_MS) * HOUR_MS);
    case 'day':
      return new Date(ceil(min / DAY_MS) * DAY_MS);
    case 'month': {
      const months = at.getUTCFullYear() * 12 + at.getUTCMonth() + (min > Date.UTC(at.getUTCFullYear(), at.getUTCMonth()) ? 1 : 0);
      const aligned = ceil(months);
      return new Date(Date.UTC(Math.floor(aligned / 12), aligned % 12));
    }
    case 'year':
      return new Date(Date.UTC(ceil(at.getUTCFullYear() + (min > Date.UTC(at.getUTCFullYear(), 0) ? 1 : 0)), 0));
  }
}

function nextTick(at: Date, step: TickStep): Date {
  if (step.unit === 'hour') return new Date(at.getTime() + step.count * HOUR_MS);
  if (step.unit === 'day') return new Date(at.getTime() + step.count * DAY_MS);
  if (step.unit === 'month') return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + step.count));
  return new Date(Date.UTC(at.getUTCFullYear() + step.count, 0));
}

function tickLabel(at: Date, step: TickStep): string {
  const iso = at.toISOString();
  if (step.unit === 'hour') return iso.slice(11, 13) === '00' ? iso.slice(5, 10) : `${iso.slice(11, 13)}h`;
  if (step.unit === 'day') return iso.slice(5, 10);
  if (step.unit === 'month') return iso.slice(0, 7);
  return iso.slice(0, 4);
}

/** Ticks on whole UTC hours, days, months or years: the coarsest step that still gives at most `most` of them. */
export function axisTicks(min: number, max: number, most = 8): AxisTick[] {
  if (!(max > min)) return [];
  const step = TICK_STEPS.find((candidate) => (max - min) / candidate.approxMs <= most) ?? TICK_STEPS.at(-1)!;
  const ticks: AxisTick[] = [];
  for (let at = firstTick(min, step); at.getTime() <= max && ticks.length <= most * 2; at = nextTick(at, step)) ticks.push({ at: at.getTime(), label: tickLabel(at, step) });
  return ticks;
}
