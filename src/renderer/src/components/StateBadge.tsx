import { Badge } from '@mantine/core';
import { stateColour, stateVariant, type ConsoleState } from '../colours';

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
    <Badge data-testid={testId} color={stateColour(state)} variant={variant ?? stateVariant(state)} tt="none" radius="sm" miw={miw} style={{ minWidth: 'max-content', flexShrink: 0 }}>
      {label ?? state}
    </Badge>
  );
}
