import type { Chart } from 'chart.js';
import { FAILED_HEX } from '../colours';

/** Draws a dashed target or alert line across a chart at `value` on its y scale, labelled at the right. */
export function drawTargetLine(chart: Chart, value: number, label: string): void {
  const y = chart.scales.y;
  if (!y) return;
  const { left, right } = chart.chartArea;
  const pixel = y.getPixelForValue(value);
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
  context.fillText(label, right - 6, pixel - 6);
  context.restore();
}
