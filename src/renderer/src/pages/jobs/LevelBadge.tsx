import { Badge } from '@mantine/core';
import type { RollupLevel } from '../../../../shared/rollup';
import { LEVEL_COLOUR } from '../../colours';
import { UNCLIPPED_BADGE } from '../../components/StateBadge';

/** A rollup level in its colour; never narrower than its word, however squeezed its table column is. */
export function LevelBadge({ level }: { level: RollupLevel }) {
  return (
    <Badge color={LEVEL_COLOUR[level].mantine} variant="light" tt="none" radius="sm" miw={64} styles={UNCLIPPED_BADGE}>
      {level}
    </Badge>
  );
}
