import { Group, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';

/** A page's title and one line about it, with its freshness indicator (or any control) on the right. */
export function PageHeader({ title, subtitle, children }: { title: string; subtitle: ReactNode; children?: ReactNode }) {
  return (
    <Group justify="space-between" align="flex-end">
      <div>
        <Title order={2} fw={650}>
          {title}
        </Title>
        <Text size="sm" c="dimmed">
          {subtitle}
        </Text>
      </div>
      {children}
    </Group>
  );
}
