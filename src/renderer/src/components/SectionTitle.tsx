import { Group, Title } from '@mantine/core';
import type { ReactNode } from 'react';

/** The small uppercase heading above each block of a page, with optional controls on the right. */
export function SectionTitle({ children, right }: { children: ReactNode; right?: ReactNode }) {
  return (
    <Group justify="space-between" align="flex-end" gap="xs">
      <Title order={5} c="dimmed" tt="uppercase" fz="xs" lts={0.6}>
        {children}
      </Title>
      {right}
    </Group>
  );
}
