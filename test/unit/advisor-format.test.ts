import { describe, expect, it } from 'vitest';
import { formatAdvice } from '../../src/cli/commands/advise';
import type { AdviceReport } from '../../src/shared/monitor';

const report: AdviceReport = {
  checkedAt: '2026-12-02T10:00:00.000Z',
  findings: [
    { shard: 0, shardName: 'shard0', subject: 'innodb_buffer_pool_size', severity: 'ok', actual: '10.0 GiB (63 % of 16.0 GiB RAM)', recommended: '11.1 GiB (70 % of 16.0 GiB)', message: 'within 50-80 % of RAM' },
    {
      shard: 1,
      shardName: 'shard1',
      subject: 'innodb_flush_log_at_trx_commit',
      severity: 'info',
      actual: '1',
      recommended: '2',
      message: '1 flushes the redo log to disk on every commit',
      fix: 'SET GLOBAL innodb_flush_log_at_trx_commit = 2;',
    },
    { shard: 1, shardName: 'shard1', subject: 'index:analytics_realtime.(site_id, created_at)', severity: 'warning', actual: 'missing', recommended: '(site_id, created_at)', message: 'missing', fix: 'ALTER TABLE analytics_realtime ADD INDEX idx_site_created (site_id, created_at);' },
  ],
  unreadShards: [{ shard: 2, shardName: 'shard2', problem: { code: 3001, message: 'shard2 (127.0.0.1:3308): connection refused' } }],
};

describe('strata advise as text', () => {
  it('groups the findings by shard, counts the warnings, and puts the why and the fix under each one that is not ok', () => {
    const lines = formatAdvice(report).split('\n');
    expect(lines).toContain('shard0: nothing to change');
    expect(lines).toContain('shard1: 1 warning');
    expect(lines.find((line) => line.includes('innodb_buffer_pool_size'))).toMatch(/^ {2}ok {4}innodb_buffer_pool_size {2}10\.0 GiB .* recommended 11\.1 GiB/);
    const index = lines.findIndex((line) => line.startsWith('  WARN  index:analytics_realtime'));
    expect(lines[index + 2]).toBe('        fix: ALTER TABLE analytics_realtime ADD INDEX idx_site_created (site_id, created_at);');
    expect(lines.at(-1)).toBe('shard2: NOT READ: shard2 (127.0.0.1:3308): connection refused');
  });
});
