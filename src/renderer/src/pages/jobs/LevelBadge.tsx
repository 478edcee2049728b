import { Badge } from '@mantine/core';
import type { RollupLevel } from '../../../../shared/rollup';
import { LEVEL_STYLE } from './level-style';

export function LevelBadge({ level }: { level: RollupLevel }) {
  return (
    <Badge color={LEVEL_STYLE[level].mantine} variant="light" tt="none" radius="sm" miw={64}>
      {level}
    </Badge>
  );
}
