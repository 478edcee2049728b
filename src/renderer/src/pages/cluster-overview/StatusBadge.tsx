import { Badge } from '@mantine/core';

/** "up" in quiet green, "DOWN" in loud red: a dead part must stand out in a long list. */
export function StatusBadge({ up, testId }: { up: boolean; testId: string }) {
  return (
    <Badge
      data-testid={testId}
      data-status={up ? 'up' : 'down'}
      color={up ? 'teal' : 'red'}
      variant={up ? 'light' : 'filled'}
      tt="none"
      radius="sm"
      miw={64}
    >
      {up ? 'up' : 'DOWN'}
    </Badge>
  );
}
