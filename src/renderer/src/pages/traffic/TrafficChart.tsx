import { Paper, Text } from '@mantine/core';
import { Chart as ChartJS, Legend, LinearScale, LineElement, PointElement, TimeScale, Tooltip, type ChartOptions, type ScriptableLineSegmentContext } from 'chart.js';
import 'chartjs-adapter-date-fns';
import { Line } from 'react-chartjs-2';
import type { TrafficAnswer } from '../../../../shared/traffic';
import { AXIS_TEXT, CHART_BASE, CHART_LEGEND, GRID, utcMinute } from '../../components/chart-options';

ChartJS.register(LinearScale, TimeScale, PointElement, LineElement, Tooltip, Legend);

const PAGE_VIEWS = '#4dabf7';
const VISITORS = '#63e6be';
/** Segments that end in a provisional period are dashed: not rolled up at the table's level yet. */
const PROVISIONAL_DASH = [6, 4];

const count = (value: number) => value.toLocaleString('en-US');

function tickLabel(period: TrafficAnswer['period'], value: number): string {
  const iso = new Date(value).toISOString();
  if (period === 'hour') return `${iso.slice(5, 10)} ${iso.slice(11, 13)}h`;
  if (period === 'day') return iso.slice(0, 10);
  return iso.slice(0, 7);
}

/** Page views (left axis) and visitors (right axis) per period, provisional periods dashed. */
export function TrafficChart({ answer }: { answer: TrafficAnswer }) {
  const provisional = answer.series.map((point) => point.provisional);
  const dashed = (context: ScriptableLineSegmentContext) => (provisional[context.p1DataIndex] ? PROVISIONAL_DASH : undefined);
  const options: ChartOptions<'line'> = {
    ...CHART_BASE,
    interaction: { mode: 'index', intersect: false },
    scales: {
      x: {
        type: 'time',
        min: Date.parse(answer.from),
        max: Date.parse(answer.series.at(-1)?.t ?? answer.to),
        grid: { color: GRID },
        ticks: { color: AXIS_TEXT, maxRotation: 0, maxTicksLimit: 8, callback: (value) => tickLabel(answer.period, Number(value)) },
      },
      pageViews: { type: 'linear', position: 'left', min: 0, grid: { color: GRID }, ticks: { color: PAGE_VIEWS, maxTicksLimit: 6, callback: (value) => count(Number(value)) } },
      visitors: { type: 'linear', position: 'right', min: 0, grid: { drawOnChartArea: false }, ticks: { color: VISITORS, maxTicksLimit: 6, callback: (value) => count(Number(value)) } },
    },
    plugins: {
      legend: CHART_LEGEND,
      tooltip: {
        callbacks: {
          title: (items) => {
            const item = items[0];
            if (!item) return '';
            return `${utcMinute(Number(item.parsed.x))}${provisional[item.dataIndex] ? ' (provisional)' : ''}`;
          },
          label: (item) => `${item.dataset.label ?? ''}: ${count(Number(item.parsed.y))}`,
        },
      },
    },
  };
  const points = answer.series.length;
  const dataset = (label: string, colour: string, axis: string, value: (point: TrafficAnswer['series'][number]) => number) => ({
    label,
    yAxisID: axis,
    data: answer.series.map((point) => ({ x: Date.parse(point.t), y: value(point) })),
    borderColor: colour,
    backgroundColor: colour,
    borderWidth: 1.5,
    pointRadius: points > 60 ? 0 : 2,
    tension: 0.2,
    segment: { borderDash: dashed },
  });
  const provisionalCount = provisional.filter(Boolean).length;
  return (
    <Paper withBorder radius="md" p="md" data-testid="traffic-chart" data-points={points} data-provisional={provisionalCount} data-table={answer.table}>
      {points === 0 ? (
        <Text size="sm" c="dimmed" ta="center" py={80} data-testid="traffic-chart-empty">
          No periods in this range.
        </Text>
      ) : (
        <div style={{ position: 'relative', height: 300 }}>
          <Line data={{ datasets: [dataset('page views', PAGE_VIEWS, 'pageViews', (point) => point.pageViews), dataset('visitors', VISITORS, 'visitors', (point) => point.visitors)] }} options={options} />
        </div>
      )}
      {provisionalCount > 0 && (
        <Text size="xs" c="dimmed" mt={4} data-testid="traffic-provisional-legend">
          Dashed: {provisionalCount} provisional {provisionalCount === 1 ? 'period' : 'periods'}, not rolled up into {answer.table} yet (read from the levels below and raw rows).
        </Text>
      )}
    </Paper>
  );
}
