import { Group, Paper, SegmentedControl, Text } from '@mantine/core';
import { Chart as ChartJS, Legend, LineElement, LogarithmicScale, PointElement, TimeScale, Tooltip, type ChartOptions, type Plugin, type ScriptableContext } from 'chart.js';
import 'chartjs-adapter-date-fns';
import { useMemo, useState } from 'react';
import { Scatter } from 'react-chartjs-2';
import { ROLLUP_LEVELS, type RollupLevel, type RunRecord } from '../../../../shared/rollup';
import { formatDuration, formatUtc, formatWindow } from '../../format';
import { FAILED_HEX, LEVEL_COLOUR } from '../../colours';
import { drawTargetLine } from '../../components/chart-target-line';
import { AXIS_TEXT, CHART_BASE, CHART_LEGEND, GRID } from '../../components/chart-options';

ChartJS.register(LogarithmicScale, TimeScale, PointElement, LineElement, Tooltip, Legend);

/** The runbook's target: every window aggregates in under five minutes. */
export const AGGREGATION_ALERT_SECONDS = 300;

type XAxis = 'window' | 'run';

interface RunPoint {
  x: number;
  y: number;
  run: RunRecord;
}

/** A log axis cannot show 0 s; runs under a millisecond are drawn at 1 ms (the tooltip keeps the true figure). */
const FLOOR_SECONDS = 0.001;

/** Draws the alert threshold across the whole plot, whatever range the data spans. */
const alertLine: Plugin<'scatter'> = {
  id: 'strataAlertLine',
  afterDatasetsDraw(chart) {
    drawTargetLine(chart, AGGREGATION_ALERT_SECONDS, 'alert: 5 min per window');
  },
};

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** Steps a time axis may take, finest first; the first giving at most MAX_TIME_TICKS ticks is used. */
const TIME_STEPS_MS = [15 * MINUTE_MS, 30 * MINUTE_MS, HOUR_MS, 2 * HOUR_MS, 3 * HOUR_MS, 6 * HOUR_MS, 12 * HOUR_MS, DAY_MS, 2 * DAY_MS, 7 * DAY_MS, 14 * DAY_MS];
const MAX_TIME_TICKS = 9;

export interface TimeAxis {
  min: number;
  max: number;
  /** Tick positions, on whole UTC steps (a multiple of an hour or a day since the epoch is one in UTC). */
  ticks: number[];
  label(value: number): string;
}

/**
 * The time axis from the points' span: padded so no point sits on an edge (and a single instant still gets an axis
 * an hour wide), ticks on whole UTC steps, and labels as precise as the step needs, so no two ticks read alike.
 */
export function timeAxis(xs: readonly number[]): TimeAxis {
  const lowest = Math.min(...xs);
  const highest = Math.max(...xs);
  const pad = Math.max(30 * MINUTE_MS, (highest - lowest) * 0.04);
  const min = lowest - pad;
  const max = highest + pad;
  const step = TIME_STEPS_MS.find((candidate) => (max - min) / candidate <= MAX_TIME_TICKS);
  if (step === undefined) {
    const ticks: number[] = [];
    const first = new Date(min);
    const months = Math.ceil((max - min) / (30 * DAY_MS) / MAX_TIME_TICKS);
    for (let month = Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 1); month <= max; ) {
      ticks.push(month);
      const at = new Date(month);
      month = Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + months, 1);
    }
    return { min, max, ticks, label: (value) => new Date(value).toISOString().slice(0, 7) };
  }
  const ticks: number[] = [];
  for (let tick = Math.ceil(min / step) * step; tick <= max; tick += step) ticks.push(tick);
  const oneDay = new Date(min).toISOString().slice(0, 10) === new Date(max).toISOString().slice(0, 10);
  const label = (value: number) => {
    const iso = new Date(value).toISOString();
    if (step >= DAY_MS) return iso.slice(5, 10);
    return oneDay ? iso.slice(11, 16) : `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  };
  return { min, max, ticks, label };
}

function pointsOf(runs: readonly RunRecord[], level: RollupLevel, xAxis: XAxis): RunPoint[] {
  return runs
    .filter((run) => run.level === level && run.durationMs !== null)
    .map((run) => ({ x: Date.parse(xAxis === 'window' ? run.windowStart : run.startedAt), y: Math.max(FLOOR_SECONDS, (run.durationMs ?? 0) / 1000), run }))
    .sort((a, b) => a.x - b.x);
}

/** Round durations a DBA reads at a glance; a log axis gets its grid lines and labels only at these. */
const AXIS_SECONDS = [0.001, 0.01, 0.1, 1, 10, 60, 300, 1800, 3600, 6 * 3600, 24 * 3600];

function axisLabel(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${seconds / 60} min`;
  return `${seconds / 3600} h`;
}

/** How far (as a factor, on the log scale) the axis reaches past a point on it, so its marker is drawn whole. */
const EDGE_ROOM = 2;

/**
 * From the round duration below the fastest run to the one above the slowest, always past the alert line; a point
 * on (or next to) a round value gets room beyond it, so a 0 ms window drawn at 1 ms is not cut in half by the edge.
 */
export function yRange(values: readonly number[]): { min: number; max: number } {
  const lowest = Math.min(...values, 1);
  const highest = Math.max(...values, AGGREGATION_ALERT_SECONDS * 2);
  const roundBelow = [...AXIS_SECONDS].reverse().find((seconds) => seconds <= lowest) ?? AXIS_SECONDS[0]!;
  const roundAbove = AXIS_SECONDS.find((seconds) => seconds >= highest) ?? highest;
  return {
    min: lowest / roundBelow < EDGE_ROOM ? Math.min(roundBelow, lowest) / EDGE_ROOM : roundBelow,
    max: roundAbove / highest < EDGE_ROOM ? Math.max(roundAbove, highest) * EDGE_ROOM : roundAbove,
  };
}

function runColour(level: RollupLevel) {
  return (context: ScriptableContext<'line'>) => ((context.raw as RunPoint | undefined)?.run.outcome === 'ok' || context.raw === undefined ? LEVEL_COLOUR[level].hex : FAILED_HEX);
}

/** Seconds each window took to aggregate, per level, on a log scale, with the 5-minute alert line. */
export function AggregationChart({ runs }: { runs: readonly RunRecord[] }) {
  const [xAxis, setXAxis] = useState<XAxis>('window');
  const datasets = useMemo(
    () =>
      ROLLUP_LEVELS.map((level) => ({ level, points: pointsOf(runs, level, xAxis) }))
        .filter(({ points }) => points.length > 0)
        .map(({ level, points }) => ({
          label: level,
          data: points,
          // Failures are few and matter most, so they are drawn larger than the ok points around them.
          pointRadius: (context: ScriptableContext<'line'>) => ((context.raw as RunPoint | undefined)?.run.outcome === 'ok' ? 3 : 6),
          pointHoverRadius: 7,
          pointBorderWidth: (context: ScriptableContext<'line'>) => ((context.raw as RunPoint | undefined)?.run.outcome === 'ok' ? 1 : 2),
          pointBackgroundColor: runColour(level),
          pointBorderColor: runColour(level),
          borderColor: LEVEL_COLOUR[level].hex,
          backgroundColor: LEVEL_COLOUR[level].hex,
          pointStyle: (context: ScriptableContext<'line'>) => ((context.raw as RunPoint | undefined)?.run.outcome === 'failed' ? 'crossRot' : 'circle'),
        })),
    [runs, xAxis],
  );
  const allPoints = datasets.flatMap((dataset) => dataset.data);
  const time = timeAxis(allPoints.length ? allPoints.map((point) => point.x) : [0]);
  const { min, max } = yRange(allPoints.map((point) => point.y));
  const options: ChartOptions<'scatter'> = {
    ...CHART_BASE,
    interaction: { mode: 'nearest', intersect: false },
    scales: {
      x: {
        type: 'time',
        min: time.min,
        max: time.max,
        grid: { color: GRID },
        afterBuildTicks: (scale) => {
          scale.ticks = time.ticks.map((value) => ({ value }));
        },
        ticks: { color: AXIS_TEXT, maxRotation: 0, autoSkip: false, callback: (value) => time.label(Number(value)) },
        title: { display: true, text: xAxis === 'window' ? 'window start (UTC)' : 'run start (UTC)', color: AXIS_TEXT },
      },
      y: {
        type: 'logarithmic',
        min,
        max,
        grid: { color: GRID },
        afterBuildTicks: (scale) => {
          scale.ticks = AXIS_SECONDS.filter((seconds) => seconds >= min && seconds <= max).map((value) => ({ value }));
        },
        ticks: { color: AXIS_TEXT, callback: (value) => axisLabel(Number(value)) },
        title: { display: true, text: 'aggregation time (log)', color: AXIS_TEXT },
      },
    },
    plugins: {
      legend: CHART_LEGEND,
      tooltip: {
        callbacks: {
          title: (items) => {
            const run = (items[0]?.raw as RunPoint | undefined)?.run;
            return run ? `${run.level} ${formatWindow(run.level, run.windowStart, run.windowEnd)} · ${run.shardName}` : '';
          },
          label: (item) => {
            const run = (item.raw as RunPoint).run;
            return [`${formatDuration(run.durationMs ?? 0)} · ${run.outcome} · ${run.rowsRead.toLocaleString('en-US')} rows read`, `ran ${formatUtc(run.startedAt, 'second')} UTC by ${run.trigger}`];
          },
        },
      },
    },
  };
  return (
    <Paper withBorder radius="md" p="md" data-testid="aggregation-chart" data-points={allPoints.length}>
      <Group justify="space-between" mb="xs">
        <Text size="sm" c="dimmed">
          Each point is one window on one shard; <Text span c={FAILED_HEX} inherit>red crosses</Text> failed.
        </Text>
        <SegmentedControl
          size="xs"
          value={xAxis}
          onChange={(value) => setXAxis(value as XAxis)}
          data={[
            { value: 'window', label: 'by window' },
            { value: 'run', label: 'by run time' },
          ]}
          data-testid="chart-x-axis"
        />
      </Group>
      {allPoints.length === 0 ? (
        <Text size="sm" c="dimmed" ta="center" py={80} data-testid="chart-empty">
          No finished rollup windows yet.
        </Text>
      ) : (
        <div style={{ position: 'relative', height: 280 }}>
          <Scatter data={{ datasets }} options={options} plugins={[alertLine]} />
        </div>
      )}
    </Paper>
  );
}
