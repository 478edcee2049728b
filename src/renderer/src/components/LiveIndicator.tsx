import { Group, Text } from '@mantine/core';
import { formatAge, formatClock } from '../format';
import { useNow } from '../hooks/use-now';

/** "Live · updated 12:04:31 (just now)", or "Not updating" once polls fail; `updatedAt` is epoch milliseconds. */
export function LiveIndicator({ updatedAt, failing, testId, verb = 'updated' }: { updatedAt: number; failing: boolean; testId: string; verb?: string }) {
  const now = useNow();
  const iso = new Date(updatedAt).toISOString();
  return (
    <Group gap={8} data-testid={testId} data-updated-at={iso}>
      <span className={failing ? 'live-dot live-dot--stale' : 'live-dot'} aria-hidden />
      <Text size="sm" c="dimmed">
        {failing ? 'Not updating' : 'Live'} · {verb}{' '}
        <Text span ff="monospace" c="var(--mantine-color-text)" inherit>
          {formatClock(iso)}
        </Text>{' '}
        ({formatAge(Math.max(0, (now - updatedAt) / 1000))})
      </Text>
    </Group>
  );
}
