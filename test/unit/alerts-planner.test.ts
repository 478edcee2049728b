import { describe, expect, it } from 'vitest';
import type { AlertRule, AlertSilence } from '../../src/shared/alerts';
import { makeScope, type Figure, type MonitorSnapshot } from '../../src/shared/monitor';
import { activeSilence, planEvaluation, type EvaluationInput, type EvaluationPlan, type StoredAlertState } from '../../src/main/alerts/planner';
import { effectiveRules } from '../../src/main/alerts/rules';

const T0 = new Date('2026-12-02T10:00:00.000Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const rules = effectiveRules({});

function snapshot(figures: Figure[]): MonitorSnapshot {
  return {
    at: T0.toISOString(),
    durationMs: 12,
    queries: 10,
    shards: [
      { index: 0, name: 'shard0', reachable: true, hostMetricsConfigured: false },
      { index: 1, name: 'shard1', reachable: false, hostMetricsConfigured: false, problem: { code: 3001, message: 'connect ECONNREFUSED 127.0.0.1:3307' } },
    ],
    redisReachable: true,
    figures,
    recorded: true,
  };
}

const shardUp = (shard: number, value: number | null, note?: string): Figure => ({
  metric: 'shard.up',
  scope: makeScope({ shard }),
  value,
  ...(note ? { note } : {}),
  link: { kind: 'shard', shard, text: `shard${shard}` },
});

/** Runs a sequence of cycles, carrying the written states from one to the next as the store would. */
class Machine {
  states = new Map<string, StoredAlertState>();
  transitions: EvaluationPlan['transitions'] = [];
  constructor(
    private readonly base: Partial<EvaluationInput> = {},
    private readonly ruleSet: readonly AlertRule[] = rules,
  ) {}
  cycle(seconds: number, figures: Figure[], extra: Partial<EvaluationInput> = {}): EvaluationPlan {
    const plan = planEvaluation({
      rules: this.ruleSet,
      states: [...this.states.values()],
      silences: [],
      snapshot: snapshot(figures),
      now: at(seconds),
      webhookConfigured: true,
      ...this.base,
      ...extra,
    });
    for (const state of plan.states) this.states.set(`${state.rule}/${state.scope.key}`, state);
    this.transitions.push(...plan.transitions);
    return plan;
  }
  state(rule: string, scope: string): StoredAlertState | undefined {
    return this.states.get(`${rule}/${scope}`);
  }
}

describe('alert planner: the state machine per rule and scope', () => {
  it('a shard that stops answering goes pending, fires once the for-duration passed, and resolves when it answers', () => {
    const machine = new Machine();
    const first = machine.cycle(0, [shardUp(1, 0, 'connect ECONNREFUSED 127.0.0.1:3307')]);
    expect(first.transitions).toMatchObject([{ rule: 'shard-unreachable', scope: 'shard:1', from: 'inactive', to: 'pending', value: 0, threshold: 1, severity: 'critical' }]);
    expect(first.transitions[0]!.delivery).toBeUndefined();
    expect(machine.state('shard-unreachable', 'shard:1')).toMatchObject({ state: 'pending', since: at(0), message: 'shard1 unreachable: connect ECONNREFUSED 127.0.0.1:3307' });

    expect(machine.cycle(30, [shardUp(1, 0, 'connect ECONNREFUSED 127.0.0.1:3307')]).transitions).toEqual([]);
    const firing = machine.cycle(60, [shardUp(1, 0, 'connect ECONNREFUSED 127.0.0.1:3307')]);
    expect(firing.transitions).toMatchObject([{ from: 'pending', to: 'firing', delivery: { kind: 'firing', state: 'pending' } }]);
    expect(machine.state('shard-unreachable', 'shard:1')).toMatchObject({ state: 'firing', since: at(60), firedAt: at(60) });

    expect(machine.cycle(90, [shardUp(1, 0, 'connect ECONNREFUSED 127.0.0.1:3307')]).transitions).toEqual([]);
    const resolved = machine.cycle(120, [shardUp(1, 1)]);
    expect(resolved.transitions).toMatchObject([{ from: 'firing', to: 'resolved', value: 1, message: 'shard1 answers again', delivery: { kind: 'resolved', state: 'pending' } }]);
    expect(machine.state('shard-unreachable', 'shard:1')).toMatchObject({ state: 'resolved', resolvedAt: at(120), firedAt: at(60) });
    expect(machine.transitions.map((transition) => `${transition.from}→${transition.to}`)).toEqual(['inactive→pending', 'pending→firing', 'firing→resolved']);
  });

  it('a breach shorter than the for-duration goes back to inactive without a message', () => {
    const machine = new Machine();
    machine.cycle(0, [shardUp(0, 0)]);
    const plan = machine.cycle(30, [shardUp(0, 1)]);
    expect(plan.transitions).toMatchObject([{ from: 'pending', to: 'inactive' }]);
    expect(plan.transitions[0]!.delivery).toBeUndefined();
    expect(machine.state('shard-unreachable', 'shard:0')?.state).toBe('inactive');
  });

  it('a rule with no for-duration fires at once, and a resolved alert fires again on a new breach', () => {
    const machine = new Machine();
    const pmax = (value: number): Figure => ({ metric: 'partitions.pmax_rows', scope: makeScope({ shard: 0, table: 'analytics_hourly' }), value, link: { kind: 'table', shard: 0, table: 'analytics_hourly', text: 'analytics_hourly on shard0' } });
    expect(machine.cycle(0, [pmax(12)]).transitions).toMatchObject([{ rule: 'pmax-rows', scope: 'shard:0/analytics_hourly', from: 'inactive', to: 'firing', delivery: { kind: 'firing' } }]);
    expect(machine.cycle(30, [pmax(0)]).transitions).toMatchObject([{ from: 'firing', to: 'resolved' }]);
    expect(machine.cycle(60, [pmax(3)]).transitions).toMatchObject([{ from: 'resolved', to: 'firing', delivery: { kind: 'firing' } }]);
    expect(machine.state('pmax-rows', 'shard:0/analytics_hourly')).not.toHaveProperty('resolvedAt');
  });

  it('a resolved alert with a for-duration goes pending again, not straight to firing', () => {
    const machine = new Machine();
    machine.cycle(0, [shardUp(1, 0)]);
    machine.cycle(60, [shardUp(1, 0)]);
    machine.cycle(90, [shardUp(1, 1)]);
    expect(machine.cycle(120, [shardUp(1, 0)]).transitions).toMatchObject([{ from: 'resolved', to: 'pending' }]);
  });

  it('a null figure (not configured, not measured) changes no state, whatever it was', () => {
    const machine = new Machine();
    const cpu = (value: number | null): Figure => ({ metric: 'host.cpu_ratio', scope: makeScope({ shard: 0 }), value, ...(value === null ? { note: 'not configured' } : {}) });
    expect(machine.cycle(0, [cpu(null)])).toEqual({ states: [], transitions: [] });
    machine.cycle(0, [cpu(0.95)]);
    expect(machine.cycle(200, [cpu(null)])).toEqual({ states: [], transitions: [] });
    expect(machine.state('cpu', 'shard:0')?.state).toBe('pending');
    machine.cycle(300, [cpu(0.95)]);
    expect(machine.state('cpu', 'shard:0')?.state).toBe('firing');
    expect(machine.cycle(400, [cpu(null)])).toEqual({ states: [], transitions: [] });
    expect(machine.state('cpu', 'shard:0')?.state).toBe('firing');
  });

  it('a figure missing from a cycle leaves its state as it was', () => {
    const machine = new Machine();
    machine.cycle(0, [shardUp(1, 0)]);
    expect(machine.cycle(120, [])).toEqual({ states: [], transitions: [] });
    expect(machine.state('shard-unreachable', 'shard:1')?.state).toBe('pending');
  });

  it('nothing is written for quiet figures, and a still-firing alert is rewritten only when its value moves', () => {
    const machine = new Machine();
    const queue = (value: number): Figure => ({ metric: 'queue.depth', scope: makeScope({}), value });
    expect(machine.cycle(0, [queue(10), shardUp(0, 1)])).toEqual({ states: [], transitions: [] });
    machine.cycle(0, [queue(20_000)]);
    machine.cycle(300, [queue(20_000)]);
    expect(machine.cycle(330, [queue(20_000)])).toEqual({ states: [], transitions: [] });
    const moved = machine.cycle(360, [queue(25_000)]);
    expect(moved.transitions).toEqual([]);
    expect(moved.states).toMatchObject([{ state: 'firing', value: 25_000, message: 'Ingestion queue depth is 25,000, above 10,000' }]);
  });

  it('level rules only watch their level: hourly lag does not fire on a daily lag', () => {
    const machine = new Machine();
    const lag = (level: string, value: number): Figure => ({ metric: 'watermark.lag_s', scope: makeScope({ shard: 0, level }), value });
    const plan = machine.cycle(0, [lag('daily', 10_000), lag('hourly', 8000)]);
    expect(plan.transitions.map((transition) => `${transition.rule} ${transition.scope}`)).toEqual(['hourly-lag shard:0/hourly']);
    expect(plan.transitions[0]!.message).toBe('Watermark lag on shard0 (hourly) is 2.2 h, above 2.0 h');
  });

  it('"<" rules breach below the threshold: too few partitions ahead, a low hit ratio', () => {
    const machine = new Machine();
    const plan = machine.cycle(0, [
      { metric: 'partitions.ahead_days', scope: makeScope({ shard: 0, table: 'analytics_daily' }), value: 2 },
      { metric: 'partitions.ahead_days', scope: makeScope({ shard: 1, table: 'analytics_daily' }), value: 3 },
      { metric: 'redis.hit_ratio', scope: makeScope({}), value: 0.5 },
    ]);
    expect(plan.transitions.map((transition) => `${transition.rule} ${transition.scope} ${transition.to}`)).toEqual(['partitions-ahead shard:0/analytics_daily firing', 'redis-hit-ratio cluster pending']);
  });

  it('the aggregation alert names the window, the shard and the run', () => {
    const machine = new Machine();
    const plan = machine.cycle(0, [
      {
        metric: 'aggregation.duration_s',
        scope: makeScope({ shard: 0, level: 'hourly' }),
        value: 412.3,
        link: { kind: 'run', runId: 123, shard: 0, windowStart: '2026-12-01T10:00:00.000Z', text: 'run 123' },
      },
    ]);
    expect(plan.transitions).toMatchObject([
      { rule: 'aggregation-time', to: 'firing', severity: 'critical', message: 'aggregation of hourly window 2026-12-01 10:00 on shard0 took 412 s (run 123)', link: { kind: 'run', runId: 123 } },
    ]);
  });

  it('an unreachable shard without a note says what the monitor knows about it', () => {
    const plan = new Machine().cycle(0, [shardUp(1, 0)]);
    expect(plan.transitions[0]!.message).toBe('shard1 unreachable: connect ECONNREFUSED 127.0.0.1:3307');
  });

  it('a lowered threshold takes effect on the next cycle and is recorded with the transition', () => {
    const lowered = rules.map((candidate) => (candidate.name === 'query-latency' ? { ...candidate, threshold: 5, forSeconds: 0, customized: true } : candidate));
    const machine = new Machine({}, lowered);
    const plan = machine.cycle(0, [{ metric: 'chart.latency_ms', scope: makeScope({ shard: 0 }), value: 12 }]);
    expect(plan.transitions).toMatchObject([{ rule: 'query-latency', to: 'firing', threshold: 5, value: 12 }]);
  });

  it('a disabled rule ends its alerts: pending becomes inactive, firing resolves with a message', () => {
    const machine = new Machine();
    machine.cycle(0, [shardUp(0, 0), shardUp(1, 0)]);
    machine.cycle(60, [shardUp(1, 0)]);
    const disabled = rules.map((candidate) => (candidate.name === 'shard-unreachable' ? { ...candidate, enabled: false } : candidate));
    const plan = planEvaluation({ rules: disabled, states: [...machine.states.values()], silences: [], snapshot: snapshot([shardUp(0, 0), shardUp(1, 0)]), now: at(90), webhookConfigured: true });
    expect(plan.transitions.map((transition) => `${transition.scope} ${transition.from}→${transition.to} ${transition.delivery?.kind ?? '-'}`)).toEqual(['shard:0 pending→inactive -', 'shard:1 firing→resolved resolved']);
  });

  it('an acknowledgement lasts through its episode and is cleared by a new one', () => {
    const machine = new Machine();
    machine.cycle(0, [shardUp(1, 0)]);
    const key = 'shard-unreachable/shard:1';
    machine.states.set(key, { ...machine.states.get(key)!, ackedBy: 'ana@db1', ackedAt: at(10) });
    machine.cycle(60, [shardUp(1, 0)]);
    expect(machine.state('shard-unreachable', 'shard:1')).toMatchObject({ state: 'firing', ackedBy: 'ana@db1' });
    machine.cycle(90, [shardUp(1, 1)]);
    machine.cycle(120, [shardUp(1, 0)]);
    expect(machine.state('shard-unreachable', 'shard:1')).toMatchObject({ state: 'pending' });
    expect(machine.state('shard-unreachable', 'shard:1')).not.toHaveProperty('ackedBy');
  });

  it('two figures for one scope in a cycle move the state once', () => {
    const plan = new Machine().cycle(0, [
      { metric: 'backup.verified_age_s', scope: makeScope({}), value: 200_000 },
      { metric: 'backup.verified_age_s', scope: makeScope({}), value: 10 },
    ]);
    expect(plan.transitions).toHaveLength(1);
    expect(plan.states).toHaveLength(1);
  });
});

describe('alert planner: deliveries', () => {
  const silence = (overrides: Partial<AlertSilence> = {}): AlertSilence => ({
    id: 1,
    rule: 'shard-unreachable',
    until: at(3600).toISOString(),
    comment: 'planned restart',
    createdBy: 'ana@db1',
    createdAt: T0.toISOString(),
    ...overrides,
  });

  it('a silenced alert still changes state, and its message is skipped saying until when', () => {
    const machine = new Machine({ silences: [silence()] });
    machine.cycle(0, [shardUp(1, 0)]);
    const plan = machine.cycle(60, [shardUp(1, 0)]);
    expect(plan.transitions).toMatchObject([{ to: 'firing', delivery: { kind: 'firing', state: 'skipped', error: `silenced until ${at(3600).toISOString()}` } }]);
    expect(machine.cycle(90, [shardUp(1, 1)]).transitions[0]!.delivery).toMatchObject({ kind: 'resolved', state: 'skipped' });
  });

  it('a silence of one scope leaves the other scopes of the rule loud', () => {
    const machine = new Machine({ silences: [silence({ scope: 'shard:0' })] });
    const plan = machine.cycle(0, [{ metric: 'partitions.pmax_rows', scope: makeScope({ shard: 0, table: 't_a' }), value: 1 }, shardUp(0, 0), shardUp(1, 0)]);
    expect(plan.transitions.find((transition) => transition.rule === 'pmax-rows')!.delivery).toEqual({ kind: 'firing', state: 'pending' });
    const fired = machine.cycle(60, [shardUp(0, 0), shardUp(1, 0)]);
    expect(fired.transitions.map((transition) => `${transition.scope} ${transition.delivery?.state}`)).toEqual(['shard:0 skipped', 'shard:1 pending']);
  });

  it('a silence whose time passed no longer holds messages back', () => {
    const machine = new Machine({ silences: [silence({ until: at(30).toISOString() })] });
    machine.cycle(0, [shardUp(1, 0)]);
    expect(machine.cycle(60, [shardUp(1, 0)]).transitions[0]!.delivery).toEqual({ kind: 'firing', state: 'pending' });
  });

  it('without a webhook, messages are recorded as skipped: no webhook configured', () => {
    const machine = new Machine({ webhookConfigured: false });
    const plan = machine.cycle(0, [{ metric: 'rollup.failed_windows', scope: makeScope({ shard: 0, level: 'daily' }), value: 2 }]);
    expect(plan.transitions[0]!.delivery).toEqual({ kind: 'firing', state: 'skipped', error: 'no webhook configured' });
  });

  it('activeSilence prefers the silence that lasts longest', () => {
    const silences = [silence({ id: 1, until: at(60).toISOString() }), silence({ id: 2, scope: 'shard:1', until: at(600).toISOString() }), silence({ id: 3, rule: 'cpu', until: at(9000).toISOString() })];
    expect(activeSilence(silences, 'shard-unreachable', 'shard:1', T0)?.id).toBe(2);
    expect(activeSilence(silences, 'shard-unreachable', 'shard:0', T0)?.id).toBe(1);
    expect(activeSilence(silences, 'shard-unreachable', 'shard:0', at(61))).toBeUndefined();
  });
});
