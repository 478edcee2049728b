import { describe, expect, it, vi } from 'vitest';
import { channels, type ClusterStatus } from '../../src/shared/contract';
import { ErrorCode, StrataError } from '../../src/shared/errors';
import { dispatch, type Handlers } from '../../src/main/ipc/handlers';
import { silentLogger } from '../../src/main/log';

const log = silentLogger.scope('test');

const status: ClusterStatus = {
  checkedAt: '2025-01-01T00:00:00.000Z',
  profileName: 'unit',
  healthy: true,
  warnings: [],
  shards: [],
  redis: { url: 'redis://127.0.0.1:1/0', reachable: true },
};

/** Every channel answers from `clusterStatus`; the handler map is plain functions, no database behind it. */
function handlersWith(clusterStatus: () => Promise<unknown>) {
  const spy = vi.fn(clusterStatus);
  const handlers = Object.fromEntries(Object.keys(channels).map((channel) => [channel, channel === 'cluster:status' ? spy : vi.fn()])) as unknown as Handlers;
  return { handlers, spy };
}

describe('dispatch', () => {
  it('refuses a channel that is not in the contract, without running anything', async () => {
    const { handlers, spy } = handlersWith(async () => status);
    const result = await dispatch(handlers, 'cluster:drop', {}, log);
    expect(result).toEqual({ ok: false, code: ErrorCode.UnknownChannel, message: 'unknown channel cluster:drop' });
    expect(spy).not.toHaveBeenCalled();
  });

  it('refuses a payload that does not match the channel schema, naming the field', async () => {
    const { handlers, spy } = handlersWith(async () => status);
    const result = await dispatch(handlers, 'cluster:status', { shard: 3 }, log);
    expect(result.ok).toBe(false);
    expect(result).toMatchObject({ code: ErrorCode.InvalidInput, message: expect.stringContaining('cluster:status') });
    expect(spy).not.toHaveBeenCalled();
  });

  it('refuses a payload that is not an object at all', async () => {
    const { handlers } = handlersWith(async () => status);
    expect(await dispatch(handlers, 'cluster:status', 'DROP TABLE', log)).toMatchObject({ ok: false, code: ErrorCode.InvalidInput });
  });

  it.each([
    ['partitions:apply', {}, 'confirm'],
    ['partitions:convert', { table: 'analytics_monthly' }, 'confirm'],
    ['retention:prune', { tables: ['analytics_realtime'] }, 'confirm'],
    ['retention:plan', { tables: ['visits'] }, 'tables.0'],
    ['retention:set', {}, 'give at least one setting to change'],
    ['retention:set', { rawHours: 2.5 }, 'rawHours'],
    ['retention:runs', { limit: 0 }, 'limit'],
    ['audit:list', { kind: 'Retention; DROP TABLE x' }, 'kind'],
    ['audit:list', { since: 'yesterday' }, 'since'],
    ['reconcile:run', { shards: [-1] }, 'shards'],
    ['backup:run', { shards: [0] }, 'confirm'],
    ['backup:plan', { tables: ['visits'] }, 'tables'],
    ['backup:restore', { id: '20261202T073654Z-2e9a' }, 'shard'],
    ['backup:cancel', {}, 'id'],
    ['monitor:series', { range: '90d' }, 'range'],
    ['monitor:series', { metrics: ['shard.cpu; DROP TABLE x'] }, 'metrics.0'],
    ['alerts:setRule', { rule: 'Shard Unreachable', threshold: 1 }, 'rule'],
    ['alerts:setRule', { rule: 'shard-unreachable', forSeconds: -5 }, 'forSeconds'],
    ['alerts:silence', { rule: 'shard-unreachable', until: '2026-12-02T18:00:00Z', comment: '' }, 'say why it is silenced'],
    ['alerts:silence', { rule: 'shard-unreachable', until: 'tonight', comment: 'maintenance' }, 'until'],
    ['alerts:unsilence', { id: 0 }, 'id'],
    ['alerts:ack', { rule: 'shard-unreachable' }, 'scope'],
    ['alerts:history', { limit: 5000 }, 'limit'],
    ['traffic:chart', { scope: { kind: 'everything' }, from: '2026-12-01T00:00Z', to: '2026-12-02T00:00Z' }, 'scope'],
    ['traffic:chart', { scope: { kind: 'top', limit: 5000 }, from: '2026-12-01T00:00Z', to: '2026-12-02T00:00Z' }, 'scope.limit'],
    ['traffic:sites', { search: '1; DROP TABLE x' }, 'a site id is digits only'],
    ['cache:invalidate', { dryRun: true }, 'give either siteId or all'],
    ['cache:invalidate', { siteId: 2, all: true }, 'give either siteId or all'],
    ['cache:keys', { limit: 0 }, 'limit'],
    ['cache:invalidations', { limit: 500 }, 'limit'],
  ] as const)('refuses %s with %j before any handler runs, naming what is wrong', async (channel, payload, named) => {
    const { handlers } = handlersWith(async () => status);
    const result = await dispatch(handlers, channel, payload, log);
    expect(result).toMatchObject({ ok: false, code: ErrorCode.InvalidInput, message: expect.stringContaining(named) });
    expect(handlers[channel]).not.toHaveBeenCalled();
  });

  it('runs the handler for a valid call and returns its data', async () => {
    const { handlers, spy } = handlersWith(async () => status);
    expect(await dispatch(handlers, 'cluster:status', undefined, log)).toEqual({ ok: true, data: status });
    expect(spy).toHaveBeenCalledOnce();
  });

  it('passes an expected failure on with its code and message', async () => {
    const { handlers } = handlersWith(async () => {
      throw new StrataError(ErrorCode.ProfileMissing, 'no cluster profile given');
    });
    expect(await dispatch(handlers, 'cluster:status', {}, log)).toEqual({ ok: false, code: ErrorCode.ProfileMissing, message: 'no cluster profile given' });
  });

  it('hides the details of an unexpected failure from the caller', async () => {
    const { handlers } = handlersWith(async () => {
      throw new Error('secret internals at /home/ops/.strata');
    });
    const result = await dispatch(handlers, 'cluster:status', {}, log);
    expect(result).toEqual({ ok: false, code: ErrorCode.Internal, message: 'Internal error; see the log for details.' });
  });

  it('never sends data that breaks the contract: a malformed answer becomes an internal error', async () => {
    const { handlers } = handlersWith(async () => ({ ...status, shards: 'two' }));
    expect(await dispatch(handlers, 'cluster:status', {}, log)).toMatchObject({ ok: false, code: ErrorCode.Internal });
  });
});
