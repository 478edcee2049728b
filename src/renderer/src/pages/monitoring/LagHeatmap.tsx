import { Paper, Table, Text, Tooltip } from '@mantine/core';
import type { AlertRule } from '../../../../shared/alerts';
import { formatMetricValue, type MonitorSnapshot } from '../../../../shared/monitor';
import { ROLLUP_LEVELS, type RollupLevel } from '../../../../shared/rollup';
import { TONE_COLOUR, type Tone } from '../../colours';
import { lagLimitMs } from '../jobs/watermark-lag';
import { figureOf, ruleOf } from './figures';

/**
 * How far behind a level may be before it is late: the rule that alerts on it (hourly-lag, daily-lag), else one
 * window plus the run's time, as the Jobs page counts it.
 */
export function lagLimitSeconds(rules: readonly AlertRule[] | undefined, level: RollupLevel): number {
  return ruleOf(rules, 'watermark.lag_s', level)?.threshold ?? lagLimitMs(level, undefined) / 1000;
}

/** Within half the limit is fine, up to the limit is a warning sign, past it the level is late. */
export function lagTone(lagSeconds: number | null, limitSeconds: number): Tone {
  if (lagSeconds === null) return 'idle';
  if (lagSeconds <= limitSeconds / 2) return 'good';
  return lagSeconds <= limitSeconds ? 'caution' : 'bad';
}

/** Shards × levels, each cell coloured by how far its watermark lags behind now against the level's limit. */
export function LagHeatmap({ snapshot, rules }: { snapshot: MonitorSnapshot; rules: readonly AlertRule[] | undefined }) {
  return (
    <Paper withBorder radius="md" p="sm" data-testid="lag-heatmap">
      <Table withColumnBorders={false} verticalSpacing={4} horizontalSpacing={6} fz="sm" style={{ borderCollapse: 'separate', borderSpacing: 4 }}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Shard</Table.Th>
            {ROLLUP_LEVELS.map((level) => (
              <Table.Th key={level} ta="center">
                {level}
                <Text span size="xs" c="dimmed" fw={400}>
                  {' '}
                  · late past {formatMetricValue('watermark.lag_s', lagLimitSeconds(rules, level))}
                </Text>
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {snapshot.shards.map((shard) => (
            <Table.Tr key={shard.index}>
              <Table.Td fw={600}>{shard.name}</Table.Td>
              {ROLLUP_LEVELS.map((level) => {
                const figure = figureOf(snapshot, 'watermark.lag_s', `shard:${shard.index}/${level}`);
                const value = figure?.value ?? null;
                const tone = lagTone(value, lagLimitSeconds(rules, level));
                const text = figure ? formatMetricValue('watermark.lag_s', value, figure.note ?? (shard.reachable ? undefined : 'unreachable')) : shard.reachable ? 'not measured' : 'unreachable';
                return (
                  <Tooltip key={level} label={`${shard.name} ${level}: watermark ${value === null ? text : `${text} behind now`}`} openDelay={200}>
                    <Table.Td
                      ta="center"
                      ff="monospace"
                      data-testid={`lag-cell-${shard.index}-${level}`}
                      data-tone={tone}
                      bg={tone === 'idle' ? 'var(--mantine-color-dark-5)' : `var(--mantine-color-${TONE_COLOUR[tone]}-${tone === 'good' ? 9 : 8})`}
                      c={tone === 'idle' ? 'dimmed' : 'white'}
                      style={{ borderRadius: 'var(--mantine-radius-sm)' }}
                    >
                      {text}
                    </Table.Td>
                  </Tooltip>
                );
              })}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Paper>
  );
}
