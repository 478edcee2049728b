import type { RollupLevel } from '../../../../shared/rollup';

/** One colour per level, shared by the chart, the badges and the tables (Mantine's dark palette, shade 4). */
export const LEVEL_STYLE: Record<RollupLevel, { mantine: string; hex: string }> = {
  hourly: { mantine: 'blue', hex: '#4dabf7' },
  daily: { mantine: 'grape', hex: '#da77f2' },
  monthly: { mantine: 'yellow', hex: '#ffd43b' },
};

export const FAILED_HEX = '#ff6b6b';
