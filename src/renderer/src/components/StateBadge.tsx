import { Badge } from '@mantine/core';
import { stateColour, stateVariant, type ConsoleState } from '../colours';

/**
 * Mantine clips a badge's label (overflow hidden inside a grid), which lets a squeezed table column shrink it to
 * `mont…`; a visible overflow makes the label's width the badge's minimum.
 */
export const UNCLIPPED_BADGE = { root: { flexShrink: 0 }, label: { overflow: 'visible' } };

interface StateBadgeProps {
  state: ConsoleState;
  /** The words shown; the state itself by default. */
  label?: string;
  variant?: 'light' | 'filled' | 'outline';
  miw?: number;
  testId?: string;
}

/** A state in its colour from the one colour scale; it keeps its full width in a squeezed table cell. */
export function StateBadge({ state, label, variant, miw, testId }: StateBadgeProps) {
  return (
    <Badge data-testid={testId} color={stateColour(state)} variant={variant ?? stateVariant(state)} tt="none" radius="sm" miw={miw} styles={UNCLIPPED_BADGE}>
      {label ?? state}
    </Badge>
  );
}
