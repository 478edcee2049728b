import { afterEach, describe, expect, it } from 'vitest';
import {
  partitionAt,
  partitionByClause,
  partitionsAround,
  partitionsFor,
  partitionStartFromName,
  toDays,
} from '../../src/main/schema/partitions';

const at = (iso: string) => new Date(iso);
const epochSeconds = (iso: string) => Date.parse(iso) / 1000;

describe('partition names and bounds', () => {
  it('computes TO_DAYS day numbers exactly as MariaDB does', () => {
    // Values read from a MariaDB 10.11 server: SELECT TO_DAYS('1970-01-01'), TO_DAYS('2024-02-29').
    expect(toDays(at('1970-01-01T00:00:00Z'))).toBe(719528);
    expect(toDays(at('2024-02-29T00:00:00Z'))).toBe(739310);
    expect(toDays(at('2024-02-29T23:59:59Z'))).toBe(739310);
  });

  it('names hourly partitions across a year boundary and bounds each by the next hour in epoch seconds', () => {
    const partitions = partitionsFor('analytics_realtime', at('2023-12-31T22:30:00Z'), at('2024-01-01T01:10:00Z'));
    expect(partitions.map((partition) => partition.name)).toEqual(['p2023123122', 'p2023123123', 'p2024010100', 'p2024010101']);
    expect(partitions[1]?.lessThan).toBe(epochSeconds('2024-01-01T00:00:00Z'));
    expect(partitions[3]?.lessThan).toBe(epochSeconds('2024-01-01T02:00:00Z'));
  });

  it('puts the last hour of a leap day in its own partition that ends at midnight of 1 March', () => {
    const partition = partitionAt('analytics_realtime', at('2024-02-29T23:59:59.999Z'));
    expect(partition.name).toBe('p2024022923');
    expect(partition.end.toISOString()).toBe('2024-03-01T00:00:00.000Z');
  });

  it('creates a daily partition for 29 February in a leap year and none in other years', () => {
    const leap = partitionsFor('analytics_hourly', at('2024-02-27T05:00:00Z'), at('2024-03-01T00:00:00Z'));
    expect(leap.map((partition) => partition.name)).toEqual(['p20240227', 'p20240228', 'p20240229', 'p20240301']);
    expect(leap[2]?.lessThan).toBe(739311);
    const common = partitionsFor('analytics_hourly', at('2023-02-27T00:00:00Z'), at('2023-03-01T00:00:00Z'));
    expect(common.map((partition) => partition.name)).toEqual(['p20230227', 'p20230228', 'p20230301']);
  });

  it('names monthly partitions across a year boundary and bounds February by 1 March', () => {
    const partitions = partitionsFor('analytics_daily', at('2023-11-15T00:00:00Z'), at('2024-02-29T12:00:00Z'));
    expect(partitions.map((partition) => partition.name)).toEqual(['p202311', 'p202312', 'p202401', 'p202402']);
    expect(partitions[1]?.lessThan).toBe(toDays(at('2024-01-01T00:00:00Z')));
    expect(partitions[3]?.lessThan).toBe(739311);
  });

  it('counts back and ahead in whole periods, even from the last day of a month', () => {
    const months = partitionsAround('analytics_daily', at('2024-03-31T23:00:00Z'), 1, 1);
    expect(months.map((partition) => partition.name)).toEqual(['p202402', 'p202403', 'p202404']);
    const years = partitionsAround('analytics_monthly', at('2024-06-15T00:00:00Z'), 5, 1);
    expect(years.map((partition) => partition.name)).toEqual(['p2019', 'p2020', 'p2021', 'p2022', 'p2023', 'p2024', 'p2025']);
    expect(years.at(-1)?.lessThan).toBe(toDays(at('2026-01-01T00:00:00Z')));
  });

  it('gives the same partitions whatever the local time zone of the machine', () => {
    const before = partitionsAround('analytics_realtime', at('2024-03-31T00:30:00Z'), 48, 168);
    process.env.TZ = 'Europe/Berlin';
    expect(new Date(Date.UTC(2024, 2, 31, 1)).getHours()).toBe(3); // the time zone change really took effect
    expect(partitionsAround('analytics_realtime', at('2024-03-31T00:30:00Z'), 48, 168)).toEqual(before);
  });

  afterEach(() => {
    delete process.env.TZ;
  });

  it('reads a partition name back into its period and rejects names it would never make', () => {
    expect(partitionStartFromName('p2024022923', 'hour')?.toISOString()).toBe('2024-02-29T23:00:00.000Z');
    expect(partitionStartFromName('p20240229', 'day')?.toISOString()).toBe('2024-02-29T00:00:00.000Z');
    expect(partitionStartFromName('p202412', 'month')?.toISOString()).toBe('2024-12-01T00:00:00.000Z');
    expect(partitionStartFromName('p2024', 'year')?.toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(partitionStartFromName('p20230229', 'day')).toBeUndefined();
    expect(partitionStartFromName('pmax', 'day')).toBeUndefined();
    expect(partitionStartFromName('p2024022923', 'day')).toBeUndefined();
  });

  it('writes integer bounds and a catch-all partition, never a time-zone dependent UNIX_TIMESTAMP literal', () => {
    const clause = partitionByClause('analytics_realtime', partitionsFor('analytics_realtime', at('2024-01-01T00:00:00Z'), at('2024-01-01T01:00:00Z')));
    expect(clause).toBe(
      [
        'PARTITION BY RANGE (UNIX_TIMESTAMP(created_at)) (',
        '  PARTITION p2024010100 VALUES LESS THAN (1704070800),',
        '  PARTITION p2024010101 VALUES LESS THAN (1704074400),',
        '  PARTITION pmax VALUES LESS THAN MAXVALUE',
        ')',
      ].join('\n'),
    );
  });
});
