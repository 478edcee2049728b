import { Paper, ScrollArea, Table, Text } from '@mantine/core';
import type { ReactNode } from 'react';

export interface RecordColumn {
  label?: ReactNode;
  align?: 'right';
}

interface RecordTableProps {
  testId: string;
  columns: readonly RecordColumn[];
  children: ReactNode;
  /** Rows scroll under a sticky header past this height; without it the table grows with its rows. */
  maxHeight?: number;
  /** Scrolls sideways below this width instead of squeezing the columns. */
  minWidth?: number;
  /** Shown in place of the rows when there are none. */
  empty?: { text: string; testId: string };
  rowCount?: number;
}

/** The bordered, scrolling table of records (runs, entries, alerts) every history view of the console uses. */
export function RecordTable({ testId, columns, children, maxHeight, minWidth, empty, rowCount }: RecordTableProps) {
  const dense = maxHeight !== undefined;
  const table = (
    <Table fz="sm" verticalSpacing={dense ? 5 : 6} horizontalSpacing={dense ? 'sm' : 'md'} miw={minWidth} stickyHeader={dense} highlightOnHover={dense}>
      <Table.Thead>
        <Table.Tr>
          {columns.map((column, index) => (
            <Table.Th key={index} ta={column.align}>
              {column.label}
            </Table.Th>
          ))}
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {empty && rowCount === 0 ? (
          <Table.Tr>
            <Table.Td colSpan={columns.length}>
              <Text size="sm" c="dimmed" ta="center" py="md" data-testid={empty.testId}>
                {empty.text}
              </Text>
            </Table.Td>
          </Table.Tr>
        ) : (
          children
        )}
      </Table.Tbody>
    </Table>
  );
  return (
    <Paper withBorder radius="md" data-testid={testId}>
      {maxHeight !== undefined ? (
        <ScrollArea.Autosize mah={maxHeight} type="auto">
          {table}
        </ScrollArea.Autosize>
      ) : (
        <ScrollArea type="auto">{table}</ScrollArea>
      )}
    </Paper>
  );
}

/** Column headings from their labels, those named in `rightAligned` (figures) aligned right. */
export function columnsOf(labels: readonly string[], rightAligned: readonly string[] = []): RecordColumn[] {
  return labels.map((label) => (rightAligned.includes(label) ? { label, align: 'right' } : { label }));
}
