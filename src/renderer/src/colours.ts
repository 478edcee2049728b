import type { MantineColor } from '@mantine/core';
import type { BackfillState } from '../../shared/backfill';
import type { ShardConversionResult, ShardPartitionApplyResult } from '../../shared/partitions';
import type { KeptReason } from '../../shared/retention';
import type { RollupLevel, RunOutcome } from '../../shared/rollup';

/**
 * The console's one colour scale. Every state a page shows has a tone, and the tone gives its colour, so "failed"
 * is the same red and "running" the same blue on every page. Calm tones are drawn light, the ones asking for
 * attention filled.
 */
export type Tone = 'good' | 'active' | 'idle' | 'caution' | 'warning' | 'bad' | 'special';

export const TONE_COLOUR: Record<Tone, MantineColor> = {
  good: 'teal',
  active: 'blue',
  idle: 'gray',
  caution: 'yellow',
  warning: 'orange',
  bad: 'red',
  special: 'grape',
};

const LOUD_TONES: ReadonlySet<Tone> = new Set(['caution', 'warning', 'bad']);

/** Every state word the console shows in a badge or a progress bar. */
export type ConsoleState =
  | BackfillState
  | RunOutcome
  | ShardPartitionApplyResult['outcome']
  | ShardConversionResult['outcome']
  | KeptReason
  // progress lines, before and during the work
  | 'waiting'
  | 'stopped'
  // watermark lag
  | 'on-time'
  | 'behind'
  | 'not-started'
  | 'unknown'
  // maintenance run outcomes (free text in the history; unknown ones are idle)
  | 'partial';

const STATE_TONE = {
  ok: 'good',
  done: 'good',
  applied: 'good',
  converted: 'good',
  'up-to-date': 'good',
  'already-partitioned': 'good',
  'on-time': 'good',
  running: 'active',
  waiting: 'idle',
  cancelled: 'idle',
  'not-started': 'idle',
  cancelling: 'caution',
  partial: 'caution',
  'time-budget': 'caution',
  interrupted: 'warning',
  blocked: 'warning',
  stopped: 'warning',
  fenced: 'warning',
  behind: 'warning',
  'not-rolled-up': 'warning',
  failed: 'bad',
  refused: 'bad',
  unknown: 'bad',
  'totals-differ': 'bad',
  'backup-running': 'special',
  'late-rows': 'caution',
  'table-locked': 'caution',
} as const satisfies Record<ConsoleState, Tone>;

export function toneOf(state: string): Tone {
  return (STATE_TONE as Record<string, Tone>)[state] ?? 'idle';
}

export function stateColour(state: string): MantineColor {
  return TONE_COLOUR[toneOf(state)];
}

export function stateVariant(state: string): 'light' | 'filled' {
  return LOUD_TONES.has(toneOf(state)) ? 'filled' : 'light';
}

/** One colour per rollup level, shared by the chart, the badges and the tables (Mantine's dark palette, shade 4). */
export const LEVEL_COLOUR: Record<RollupLevel, { mantine: MantineColor; hex: string }> = {
  hourly: { mantine: 'blue', hex: '#4dabf7' },
  daily: { mantine: 'grape', hex: '#da77f2' },
  monthly: { mantine: 'yellow', hex: '#ffd43b' },
};

/** Failed points on a canvas chart, where Mantine's colour names do not reach (red, shade 4). */
export const FAILED_HEX = '#ff6b6b';
