import { Paper, Text } from '@mantine/core';
import { Chart as ChartJS, Legend, LinearScale, LineElement, PointElement, TimeScale, Tooltip, type ChartOptions, type Plugin } from 'chart.js';
import 'chartjs-adapter-date-fns';
import { useRef, type ReactNode } from 'react';
import { Line } from 'react-chartjs-2';
import { formatMetricValue, type MetricName, type MonitorRange, type MonitorSeries } from '../../../../shared/monitor';
import { drawTargetLine } from '../../components/chart-target-line';
import { AXIS_TEXT, CHART_BASE, CHART_LEGEND, GRID, utcMinute } from '../../components/chart-options';

ChartJS.register(LinearScale, TimeScale, PointElement, LineElement, Tooltip, Legend);

/** One colour per shard (or per Redis figure), in shard order; Mantine's dark palette, shade 4. */
export const SERIES_HEX = ['#4dabf7', '#63e6be', '#ffd43b', '#da77f2', '#ff922b', '#74c0fc', '#b2f2bb', '#e599f7'];


export interface ChartLine {
  label: string;
  points: MonitorSeries['points'];
}

export interface ChartTarget {
  value: number;
  label: string;
}

interface MetricChartProps {
  title: string;
  metric: MetricName;
  lines: readonly ChartLine[];
  range: MonitorRange;
  from: string;
  to: string;
  target?: ChartTarget;
  /** Shown instead of the chart when there is nothing to draw ("not configured", "no samples yet"). */
  empty?: string;
  /** Under the title: p-values, shards without figures. */
  children?: ReactNode;
  testId: string;
}

/** The target as a dashed line across the plot; drawn after the lines so it is never hidden under them. */
function targetLinePlugin(target: { current: ChartTarget | undefined }): Plugin<'line'> {
  return {
    id: 'strataTargetLine',
    afterDatasetsDraw(chart) {
      const line = target.current;
      if (line) drawTargetLine(chart, line.value, line.label);
    },
  };
}

/** Tick labels in UTC, as precise as the range needs. */
function timeLabel(range: MonitorRange, value: number): string {
  const iso = new Date(value).toISOString();
  return range === '7d' ? `${iso.slice(5, 10)} ${iso.slice(11, 13)}h` : iso.slice(11, 16);
}

/** One metric over the chosen range, a line per shard, with its alert target when it has one. */
export function MetricChart({ title, metric, lines, range, from, to, target, empty, children, testId }: MetricChartProps) {
  const targetRef = useRef(target);
  targetRef.current = target;
  const plugins = useRef([targetLinePlugin(targetRef)]).current;
  const points = lines.reduce((sum, line) => sum + line.points.length, 0);
  const ratio = metric.endsWith('_ratio');
  const highest = Math.max(0, ...lines.flatMap((line) => line.points.map((point) => point.max)));
  const options: ChartOptions<'line'> = {
    ...CHART_BASE,
    interaction: { mode: 'nearest', intersect: false },
    scales: {
      x: {
        type: 'time',
        min: Date.parse(from),
        max: Date.parse(to),
        grid: { color: GRID },
        ticks: { color: AXIS_TEXT, maxRotation: 0, maxTicksLimit: 7, callback: (value) => timeLabel(range, Number(value)) },
      },
      y: {
        type: 'linear',
        min: 0,
        // The target stays in view even while every figure is far below it.
        suggestedMax: Math.max(highest * 1.1, target ? target.value * 1.15 : 0, ratio ? 0.1 : 1),
        max: ratio ? Math.max(1, highest) : undefined,
        grid: { color: GRID },
        ticks: { color: AXIS_TEXT, maxTicksLimit: 6, callback: (value) => formatMetricValue(metric, Number(value)) },
      },
    },
    plugins: {
      legend: CHART_LEGEND,
      tooltip: {
        callbacks: {
          title: (items) => (items[0] ? utcMinute(Number(items[0].parsed.x)) : ''),
          label: (item) => `${item.dataset.label ?? ''}: ${formatMetricValue(metric, Number(item.parsed.y))}`,
        },
      },
    },
  };
  const datasets = lines.map((line, index) => ({
    label: line.label,
    data: line.points.map((point) => ({ x: Date.parse(point.at), y: point.value })),
    borderColor: SERIES_HEX[index % SERIES_HEX.length],
    backgroundColor: SERIES_HEX[index % SERIES_HEX.length],
    borderWidth: 1.5,
    pointRadius: line.points.length > 60 ? 0 : 2,
    tension: 0.2,
  }));
  return (
    <Paper withBorder radius="md" p="md" data-testid={testId} data-points={points}>
      <Text fw={600} size="sm">
        {title}
      </Text>
      {children}
      {empty !== undefined || points === 0 ? (
        <Text size="sm" c="dimmed" ta="center" py={60} data-testid={`${testId}-empty`}>
          {empty ?? 'No samples in this range yet: samples are recorded by the process holding the scheduler lease.'}
        </Text>
      ) : (
        <div style={{ position: 'relative', height: 200 }}>
          <Line data={{ datasets }} options={options} plugins={plugins} />
        </div>
      )}
    </Paper>
  );
}
