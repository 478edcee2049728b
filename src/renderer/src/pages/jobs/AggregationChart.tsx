import { Group, Paper, SegmentedControl, Text } from '@mantine/core';
import { Chart as ChartJS, Legend, LineElement, LogarithmicScale, PointElement, TimeScale, Tooltip, type ChartOptions, type Plugin, type ScriptableContext } from 'chart.js';
import 'chartjs-adapter-date-fns';
import { useMemo, useState } from 'react';
import { Scatter } from 'react-chartjs-2';
import { ROLLUP_LEVELS, type RollupLevel, type RunRecord } from '../../../../shared/rollup';
import { formatDuration, formatUtc, formatWindow } from '../../format';
import { FAILED_HEX, LEVEL_STYLE } from './level-style';

ChartJS.register(LogarithmicScale, TimeScale, PointElement, LineElement, Tooltip, Legend);

/** The runbook's target: every window aggregates in under five minutes. */
export const AGGREGATION_ALERT_SECONDS = 300;

type XAxis = 'window' | 'run';

interface RunPoint {
  x: number;
  y: number;
  run: RunRecord;
}

const AXIS_TEXT = '#909296';
const GRID = 'rgba(255, 255, 255, 0.07)';
/** A log axis cannot show 0 s; runs under a millisecond are drawn at 1 ms (the tooltip keeps the true figure). */
const FLOOR_SECONDS = 0.001;

/** Draws the alert threshold across the whole plot, whatever range the data spans. */
const alertLine: Plugin<'scatter'> = {
  id: 'strataAlertLine',
  afterDatasetsDraw(chart) {
    const y = chart.scales.y;
    if (!y) return;
    const { left, right } = chart.chartArea;
    const pixel = y.getPixelForValue(AGGREGATION_ALERT_SECONDS);
    const context = chart.ctx;
    context.save();
    context.strokeStyle = FAILED_HEX;
    context.lineWidth = 1.5;
    context.setLineDash([6, 4]);
    context.beginPath();
    context.moveTo(left, pixel);
    context.lineTo(right, pixel);
    context.stroke();
    context.fillStyle = FAILED_HEX;
    context.font = '600 11px system-ui, sans-serif';
    context.textAlign = 'right';
    context.fillText('alert: 5 min per window', right - 6, pixel - 6);
    context.restore();
  },
};

function utcTick(value: number, spanMs: number): string {
  const iso = new Date(value).toISOString();
  if (spanMs <= 36 * 3_600_000) return iso.slice(11, 16);
  if (spanMs <= 120 * 86_400_000) return `${iso.slice(5, 10)} ${iso.slice(11, 13)}h`;
  return iso.slice(0, 7);
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

/** From the round duration below the fastest run to the one above the slowest, always past the alert line. */
function yRange(points: readonly RunPoint[]): { min: number; max: number } {
  const values = points.map((point) => point.y);
  const lowest = Math.min(...values, 1);
  const highest = Math.max(...values, AGGREGATION_ALERT_SECONDS * 2);
  const min = [...AXIS_SECONDS].reverse().find((seconds) => seconds <= lowest) ?? AXIS_SECONDS[0]!;
  const max = AXIS_SECONDS.find((seconds) => seconds >= highest) ?? highest;
  return { min, max };
}

function runColour(level: RollupLevel) {
  return (context: ScriptableContext<'line'>) => ((context.raw as RunPoint | undefined)?.run.outcome === 'ok' || context.raw === undefined ? LEVEL_STYLE[level].hex : FAILED_HEX);
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
          borderColor: LEVEL_STYLE[level].hex,
          backgroundColor: LEVEL_STYLE[level].hex,
          pointStyle: (context: ScriptableContext<'line'>) => ((context.raw as RunPoint | undefined)?.run.outcome === 'failed' ? 'crossRot' : 'circle'),
        })),
    [runs, xAxis],
  );
  const allPoints = datasets.flatMap((dataset) => dataset.data);
  const xs = allPoints.map((point) => point.x);
  const spanMs = xs.length ? Math.max(...xs) - Math.min(...xs) : 0;
  const { min, max } = yRange(allPoints);
  const options: ChartOptions<'scatter'> = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    parsing: false,
    interaction: { mode: 'nearest', intersect: false },
    scales: {
      x: {
        type: 'time',
        grid: { color: GRID },
        ticks: { color: AXIS_TEXT, maxRotation: 0, autoSkipPadding: 16, callback: (value) => utcTick(Number(value), spanMs) },
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
      legend: { position: 'top', align: 'end', labels: { color: AXIS_TEXT, usePointStyle: true, pointStyle: 'circle', boxHeight: 6 } },
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
