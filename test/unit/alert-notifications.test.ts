import { afterEach, describe, expect, it, vi } from 'vitest';
import { newlyFiring, notifyFiringAlerts } from '../../src/main/electron/alert-notifications';
import { silentLogger } from '../../src/main/log';
import type { AlertList, AlertState } from '../../src/shared/alerts';

function alert(rule: string, state: AlertState['state'], extra: Partial<AlertState> = {}): AlertState {
  return { rule, scope: { key: 'shard:1', shard: 1 }, state, severity: 'critical', value: 0, threshold: 1, since: '2026-01-01T10:00:00.000Z', firedAt: state === 'firing' ? '2026-01-01T10:01:00.000Z' : undefined, message: `${rule} on shard1`, ...extra };
}

function list(...alerts: AlertState[]): AlertList {
  return { alerts, firing: alerts.filter((entry) => entry.state === 'firing').length, pending: alerts.filter((entry) => entry.state === 'pending').length };
}

describe('desktop notifications of firing alerts', () => {
  it('announces an alert once when it starts firing, not what was firing when the app started', () => {
    const seen = {};
    expect(newlyFiring(seen, list(alert('redis-unreachable', 'firing')))).toEqual([]);
    expect(newlyFiring(seen, list(alert('redis-unreachable', 'firing'), alert('shard-unreachable', 'pending')))).toEqual([]);
    const fired = alert('shard-unreachable', 'firing');
    expect(newlyFiring(seen, list(alert('redis-unreachable', 'firing'), fired))).toEqual([fired]);
    expect(newlyFiring(seen, list(alert('redis-unreachable', 'firing'), fired))).toEqual([]);
  });

  it('announces the same alert again when it fires in a new episode, and never a silenced one', () => {
    const seen = {};
    newlyFiring(seen, list());
    expect(newlyFiring(seen, list(alert('shard-unreachable', 'firing')))).toHaveLength(1);
    expect(newlyFiring(seen, list(alert('shard-unreachable', 'resolved')))).toEqual([]);
    expect(newlyFiring(seen, list(alert('shard-unreachable', 'firing', { firedAt: '2026-01-01T12:00:00.000Z' })))).toHaveLength(1);
    const silence = { id: 1, rule: 'cpu', until: '2026-01-02T00:00:00.000Z', comment: 'load test', createdBy: 'dba', createdAt: '2026-01-01T09:00:00.000Z' };
    expect(newlyFiring(seen, list(alert('cpu', 'firing', { silence })))).toEqual([]);
  });

  it('shows one system notification per newly firing alert, and none where notifications are unsupported', () => {
    let listener: (next: AlertList) => void = () => {};
    const source = { onChange: (next: (list: AlertList) => void) => ((listener = next), () => {}), list: async () => list() };
    const shown: Array<{ title: string; body: string }> = [];
    let supported = true;
    const stop = notifyFiringAlerts(source, { isSupported: () => supported, show: (notice) => shown.push(notice) }, silentLogger.scope('test'));
    listener(list());
    listener(list(alert('shard-unreachable', 'firing')));
    expect(shown).toEqual([{ title: 'Strata: critical shard-unreachable firing (shard:1)', body: 'shard-unreachable on shard1' }]);
    supported = false;
    listener(list(alert('shard-unreachable', 'firing'), alert('redis-unreachable', 'firing')));
    expect(shown).toHaveLength(1);
    stop();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('reads the list every 30 s, so alerts an agent elsewhere evaluates are announced too', async () => {
    vi.useFakeTimers();
    let current = list();
    const source = { onChange: () => () => {}, list: async () => current };
    const shown: string[] = [];
    const stop = notifyFiringAlerts(source, { isSupported: () => true, show: (notice) => shown.push(notice.title) }, silentLogger.scope('test'));
    await vi.advanceTimersByTimeAsync(30_000);
    current = list(alert('backup-age', 'firing', { severity: 'warning' }));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(shown).toEqual(['Strata: warning backup-age firing (shard:1)']);
    stop();
    current = list(alert('backup-age', 'firing', { severity: 'warning' }), alert('cpu', 'firing'));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(shown).toHaveLength(1);
  });
});
