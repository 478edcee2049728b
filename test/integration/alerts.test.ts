import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ClusterAlertService, type AlertServiceOptions } from '../../src/main/alerts/service';
import { DEFAULT_RULES } from '../../src/main/alerts/rules';
import { AlertStore } from '../../src/main/alerts/store';
import type { WebhookMessage } from '../../src/main/alerts/webhook';
import { RedisLease } from '../../src/main/lease/lease';
import { silentLogger } from '../../src/main/log';
import { EnvSecretResolver } from '../../src/main/secrets';
import { ErrorCode } from '../../src/shared/errors';
import { makeScope, type Figure, type MonitorSnapshot } from '../../src/shared/monitor';
import { startTestCluster, type TestCluster } from '../support/cluster';

const HOUR = 3_600_000;

/** A local stand-in for Slack's incoming webhook: records every message and answers as told. */
class SlackStandIn {
  readonly messages: WebhookMessage[] = [];
  /** Statuses for the next requests, in order; then 200. `hang` never answers. */
  answers: Array<number | 'hang'> = [];
  private readonly hanging = new Set<ServerResponse>();
  private server?: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((request: IncomingMessage, response: ServerResponse) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.messages.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookMessage);
        const answer = this.answers.shift() ?? 200;
        if (answer === 'hang') {
          this.hanging.add(response);
          return;
        }
        response.writeHead(answer, { 'content-type': 'text/plain' }).end(answer === 200 ? 'ok' : 'internal_error');
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    // The path stands for the secret part of a real webhook URL, which no error or log may show.
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/services/T000/B000/secret-token-xyz`;
  }

  reset(): void {
    this.messages.length = 0;
    this.answers = [];
    for (const response of this.hanging) response.destroy();
    this.hanging.clear();
  }

  async stop(): Promise<void> {
    this.reset();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

describe('alerts on a 2-shard cluster', () => {
  let cluster: TestCluster;
  const slack = new SlackStandIn();
  let clock = new Date();
  const services: ClusterAlertService[] = [];
  const advance = (ms: number) => {
    clock = new Date(clock.getTime() + ms);
  };

  function alertService(options: AlertServiceOptions & { webhook?: boolean; url?: string } = {}): ClusterAlertService {
    const { webhook = true, url = slack.url, ...rest } = options;
    const service = new ClusterAlertService(
      cluster.services.state,
      cluster.services.monitor,
      new EnvSecretResolver({ STRATA_TEST_WEBHOOK: url }),
      webhook ? { webhookUrlEnv: 'STRATA_TEST_WEBHOOK' } : undefined,
      silentLogger.scope('alerts'),
      { now: () => clock, leaseToken: () => 7, ...rest },
    );
    services.push(service);
    return service;
  }

  /** Disables every rule but these, so the stand-in receives only the messages the test is about. */
  async function onlyRules(service: ClusterAlertService, ...keep: string[]): Promise<void> {
    for (const rule of DEFAULT_RULES) if (!keep.includes(rule.name)) await service.setRule({ rule: rule.name, enabled: false });
  }

  function snapshotOf(figures: Figure[]): MonitorSnapshot {
    return {
      at: clock.toISOString(),
      durationMs: 5,
      queries: 0,
      shards: cluster.profile.shards.map((shard, index) => ({ index, name: shard.name ?? `shard${index}`, reachable: true, hostMetricsConfigured: false })),
      redisReachable: true,
      figures,
      recorded: false,
    };
  }

  const pmaxFigure = (value: number): Figure => ({
    metric: 'partitions.pmax_rows',
    scope: makeScope({ shard: 0, table: 'analytics_hourly' }),
    value,
    link: { kind: 'table', shard: 0, table: 'analytics_hourly', text: 'analytics_hourly on shard0' },
  });

  const control = <T>(sql: string, params: unknown[] = []) => cluster.services.connections.query<T>(0, sql, params, { kind: 'write' });

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 2 });
    await slack.start();
  });

  afterAll(async () => {
    await slack.stop();
    await cluster?.down();
  });

  beforeEach(async () => {
    clock = new Date();
    slack.reset();
    for (const table of ['strata_alert_states', 'strata_alert_transitions', 'strata_alert_silences', 'strata_alert_deliveries', 'strata_alert_delivery_attempts']) await control(`DELETE FROM ${table}`);
    await control("DELETE FROM strata_settings WHERE name IN ('alert-rules', 'alert-evaluation')");
  });

  afterEach(async () => {
    for (const service of services.splice(0)) await service.dispose();
  });

  it('a stopped shard: pending, firing after the for-duration, resolved after restart; the history holds all three and Slack hears one firing and one resolved message', async () => {
    const alerts = alertService();
    await onlyRules(alerts, 'shard-unreachable');
    const changes: number[] = [];
    alerts.onChange((list) => changes.push(list.firing));
    const cycle = async () => {
      await cluster.services.monitor.runCycle({ record: false });
      await alerts.idle();
    };

    await cluster.stopShard(1);
    try {
      await cycle();
      let list = await alerts.list({ includeResolved: true });
      expect(list.alerts).toMatchObject([{ rule: 'shard-unreachable', scope: { key: 'shard:1', shard: 1 }, state: 'pending', severity: 'critical', value: 0, threshold: 1 }]);
      expect(list.alerts[0]!.message).toMatch(/^shard1 unreachable: /);
      expect(list.evaluatedAt).toBe(clock.toISOString());
      expect(slack.messages).toEqual([]);

      advance(30_000);
      await cycle();
      expect((await alerts.list({ includeResolved: true })).alerts[0]!.state).toBe('pending');

      advance(31_000);
      await cycle();
      list = await alerts.list({ includeResolved: true });
      expect(list).toMatchObject({ firing: 1, pending: 0, alerts: [{ state: 'firing', firedAt: clock.toISOString(), link: { kind: 'shard', shard: 1 } }] });
      expect(slack.messages.map((message) => message.text)).toEqual([expect.stringMatching(/FIRING critical shard-unreachable \(shard:1\): shard1 unreachable: /)]);
      expect((await alerts.check()).exitCode).toBe(2);

      advance(30_000);
      await cycle();
      expect(slack.messages).toHaveLength(1);
    } finally {
      await cluster.startShard(1);
    }

    advance(30_000);
    await cycle();
    const list = await alerts.list({ includeResolved: true });
    expect(list).toMatchObject({ firing: 0, pending: 0, alerts: [{ state: 'resolved', resolvedAt: clock.toISOString(), message: 'shard1 answers again' }] });
    expect((await alerts.list({ includeResolved: false })).alerts).toEqual([]);
    expect(await alerts.check()).toMatchObject({ exitCode: 0, summary: 'nothing is firing' });
    advance(30_000);
    await cycle();

    expect(slack.messages.map((message) => message.text)).toEqual([
      expect.stringMatching(/^:red_circle: FIRING critical shard-unreachable \(shard:1\)/),
      expect.stringMatching(/^:large_green_circle: RESOLVED shard-unreachable \(shard:1\): shard1 answers again/),
    ]);
    const history = await alerts.history({ limit: 10, rule: 'shard-unreachable' });
    expect(history.map((transition) => `${transition.scope} ${transition.from}→${transition.to}`)).toEqual(['shard:1 firing→resolved', 'shard:1 pending→firing', 'shard:1 inactive→pending']);
    const tokens = await control<Array<{ token: number }>>('SELECT DISTINCT fencing_token AS token FROM strata_alert_transitions');
    expect(tokens.map((row) => Number(row.token))).toEqual([7]);
    const deliveries = await alerts.deliveries({ limit: 10 });
    expect(deliveries.map((delivery) => `${delivery.kind} ${delivery.state} ${delivery.attempts.map((attempt) => attempt.status).join(',')}`)).toEqual(['resolved delivered 200', 'firing delivered 200']);
    expect(changes.length).toBeGreaterThanOrEqual(5);
  });

  it('the control shard itself stopped: the holder tells Slack directly after the for-duration, and again once it is back', async () => {
    const alerts = alertService();
    await onlyRules(alerts, 'shard-unreachable');
    const cycle = async () => {
      await cluster.services.monitor.runCycle({ record: false });
      await alerts.idle();
    };
    await cycle();
    await cluster.stopShard(0);
    try {
      await cycle();
      expect(slack.messages).toEqual([]);
      advance(61_000);
      await cycle();
      expect(slack.messages.map((message) => message.text)).toEqual([expect.stringMatching(/^:red_circle: FIRING critical shard-unreachable \(shard:0\): shard0 unreachable: .*sent directly and not recorded\)$/)]);
      advance(30_000);
      await cycle();
      expect(slack.messages).toHaveLength(1);
    } finally {
      await cluster.startShard(0);
    }
    advance(30_000);
    await cycle();
    expect(slack.messages.map((message) => message.text)).toEqual([expect.stringMatching(/FIRING/), expect.stringMatching(/^:large_green_circle: RESOLVED shard-unreachable \(shard:0\): the control shard answers again \(down since /)]);
    expect(await alerts.history({ limit: 10 })).toEqual([]);
  });

  it('a webhook that answers 500 twice gets the message on the third try, after the back-off; every attempt is recorded', async () => {
    const alerts = alertService();
    slack.answers = [500, 500];
    expect(await alerts.evaluate(snapshotOf([pmaxFigure(12)]))).toMatchObject([{ rule: 'pmax-rows', from: 'inactive', to: 'firing' }]);

    expect(await alerts.deliverDue()).toBe(1);
    let [delivery] = await alerts.deliveries({ limit: 1 });
    expect(delivery).toMatchObject({ state: 'pending', kind: 'firing', error: 'the webhook answered HTTP 500: internal_error', nextAttemptAt: new Date(clock.getTime() + 30_000).toISOString() });
    expect(await alerts.deliverDue()).toBe(0);

    advance(30_000);
    expect(await alerts.deliverDue()).toBe(1);
    advance(60_000);
    expect(await alerts.deliverDue()).toBe(0);
    advance(60_000);
    expect(await alerts.deliverDue()).toBe(1);

    [delivery] = await alerts.deliveries({ limit: 1 });
    expect(delivery).toMatchObject({ state: 'delivered', deliveredAt: clock.toISOString() });
    expect(delivery!.attempts.map((attempt) => [attempt.attempt, attempt.status])).toEqual([
      [1, 500],
      [2, 500],
      [3, 200],
    ]);
    expect(slack.messages).toHaveLength(3);
    advance(3_600_000);
    expect(await alerts.deliverDue()).toBe(0);
  });

  it('a webhook that never answers: the alert still fires, the delivery fails after its retries and says why, never naming the URL', async () => {
    const alerts = alertService({ webhookTimeoutMs: 300, retryDelaysMs: [1000] });
    slack.answers = ['hang', 'hang'];
    await alerts.evaluate(snapshotOf([pmaxFigure(3)]));
    expect(await alerts.deliverDue()).toBe(1);
    advance(1000);
    expect(await alerts.deliverDue()).toBe(1);

    const list = await alerts.list({ includeResolved: true });
    expect(list).toMatchObject({ firing: 1, alerts: [{ rule: 'pmax-rows', state: 'firing', value: 3 }] });
    const [delivery] = await alerts.deliveries({ limit: 1 });
    expect(delivery).toMatchObject({ state: 'failed', error: 'all 2 attempts failed; the last: the webhook did not answer within 300 ms' });
    expect(delivery!.attempts.map((attempt) => attempt.error)).toEqual(['the webhook did not answer within 300 ms', 'the webhook did not answer within 300 ms']);
    expect(delivery!.attempts.every((attempt) => attempt.status === undefined)).toBe(true);
    expect(JSON.stringify(delivery)).not.toContain('secret-token-xyz');
    advance(HOUR);
    expect(await alerts.deliverDue()).toBe(0);

    slack.answers = ['hang'];
    const test = await alerts.testWebhook();
    expect(test).toMatchObject({ configured: true, source: 'env STRATA_TEST_WEBHOOK', delivered: false, error: 'the webhook did not answer within 300 ms' });
    expect(await alerts.testWebhook()).toMatchObject({ configured: true, delivered: true, status: 200 });
  });

  it('two agents: only the lease holder writes transitions and sends; two evaluators of one snapshot send one message', async () => {
    const lease = new RedisLease(cluster.services.connections, cluster.services.state.control, { name: 'alerts-test' });
    const other = new RedisLease(cluster.services.connections, cluster.services.state.control, { name: 'alerts-test' });
    const grant = await lease.tryAcquire();
    const otherGrant = await other.tryAcquire();
    expect(grant).toBeDefined();
    expect(otherGrant).toBeUndefined();
    try {
      const holder = alertService({ leaseToken: () => grant?.holder.token });
      const follower = alertService({ leaseToken: () => otherGrant?.holder.token });
      const snapshot = snapshotOf([pmaxFigure(5)]);
      expect(await follower.evaluate(snapshot)).toEqual([]);
      expect(await follower.deliverDue()).toBe(0);
      expect(await control<unknown[]>('SELECT id FROM strata_alert_transitions')).toEqual([]);

      // The same holder seen twice (a console and an agent sharing a token) evaluating one snapshot at once.
      const twin = alertService({ leaseToken: () => grant?.holder.token });
      const [first, second] = await Promise.all([holder.evaluate(snapshot), twin.evaluate(snapshot)]);
      expect([...first, ...second]).toHaveLength(1);
      await Promise.all([holder.deliverDue(), twin.deliverDue(), follower.deliverDue()]);
      expect(slack.messages).toHaveLength(1);
      const rows = await control<Array<{ token: number }>>('SELECT fencing_token AS token FROM strata_alert_transitions');
      expect(rows.map((row) => Number(row.token))).toEqual([grant!.holder.token]);

      // A holder whose lease lapsed while paused comes back with its old token: it is fenced out and writes nothing.
      const stale = alertService({ leaseToken: () => grant!.holder.token - 1 });
      await expect(stale.evaluate(snapshotOf([pmaxFigure(0)]))).rejects.toMatchObject({ code: ErrorCode.FencedOut });
      expect((await holder.list({ includeResolved: true })).alerts).toMatchObject([{ state: 'firing' }]);
      expect(await control<unknown[]>('SELECT id FROM strata_alert_transitions')).toHaveLength(1);
    } finally {
      if (grant) await lease.release(grant);
    }
  });

  it('a window slower than the lowered aggregation threshold fires naming its run, from a real rollup', async () => {
    const alerts = alertService();
    await onlyRules(alerts, 'aggregation-time');
    const rule = await alerts.setRule({ rule: 'aggregation-time', threshold: 0.001 });
    expect(rule).toMatchObject({ threshold: 0.001, customized: true });
    const hour = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
    await cluster.services.generator.run({ from: new Date(hour).toISOString(), to: new Date(hour + HOUR).toISOString(), sites: 5, views: 2000, seed: 3 });
    expect((await cluster.services.rollup.runRange('hourly', new Date(hour), new Date(hour + HOUR), { trigger: 'manual' })).ok).toBe(true);
    const run = (await cluster.services.rollup.runs({ limit: 10, level: 'hourly' })).find((entry) => entry.shard === 0)!;

    await cluster.services.monitor.runCycle({ record: false });
    await alerts.idle();
    const firing = (await alerts.list({ includeResolved: false })).alerts.find((alert) => alert.scope.key === 'shard:0/hourly');
    expect(firing).toMatchObject({ rule: 'aggregation-time', state: 'firing', severity: 'critical', threshold: 0.001, link: { kind: 'run', runId: run.id } });
    const window = new Date(hour).toISOString().slice(0, 16).replace('T', ' ');
    expect(firing!.message).toMatch(new RegExp(`^aggregation of hourly window ${window} on shard0 took \\d+ s \\(run ${run.id}\\)$`));
    expect(slack.messages.some((message) => message.text.includes(`(run ${run.id})`))).toBe(true);
    const audit = await cluster.services.state.audit.list({ kind: 'alerts.rule-set', limit: 50 });
    expect(audit.find((entry) => entry.target === 'aggregation-time')?.detail).toBe('threshold 300 s → 0.001 s');
  });

  it('silence and acknowledge: the silenced alert fires without a message, both are audited and shown on the alert', async () => {
    const alerts = alertService();
    const silence = await alerts.silence({ rule: 'pmax-rows', until: new Date(clock.getTime() + HOUR).toISOString(), comment: 'backfill of last year in progress' });
    expect(silence).toMatchObject({ rule: 'pmax-rows', comment: 'backfill of last year in progress', createdBy: expect.stringMatching(/.@./) });
    await alerts.evaluate(snapshotOf([pmaxFigure(40)]));
    expect(await alerts.deliverDue()).toBe(0);
    expect(slack.messages).toEqual([]);
    const [delivery] = await alerts.deliveries({ limit: 1 });
    expect(delivery).toMatchObject({ state: 'skipped', error: `silenced until ${silence.until}`, attempts: [] });

    const acked = await alerts.ack({ rule: 'pmax-rows', scope: 'shard:0/analytics_hourly', comment: 'seen, Ana' });
    expect(acked).toMatchObject({ state: 'firing', ackedBy: silence.createdBy, silence: { id: silence.id } });
    expect(await alerts.check()).toMatchObject({ exitCode: 0, summary: 'nothing is firing (1 silenced)' });
    await expect(alerts.ack({ rule: 'pmax-rows', scope: 'shard:9/analytics_hourly' })).rejects.toMatchObject({ code: ErrorCode.AlertNotFound });
    await expect(alerts.silence({ rule: 'pmax-rows', until: new Date(clock.getTime() - 1000).toISOString(), comment: 'late' })).rejects.toMatchObject({ code: ErrorCode.InvalidInput });
    await expect(alerts.setRule({ rule: 'no-such-rule', threshold: 1 })).rejects.toMatchObject({ code: ErrorCode.AlertRuleUnknown });

    await alerts.unsilence({ id: silence.id });
    expect((await alerts.list({ includeResolved: true })).alerts[0]).not.toHaveProperty('silence');
    expect(await alerts.check()).toMatchObject({ exitCode: 1, summary: '1 alert firing: warning pmax-rows shard:0/analytics_hourly' });
    const actions = (await cluster.services.state.audit.list({ kind: 'alerts', limit: 50 })).map((entry) => `${entry.action} ${entry.target}`).filter((action) => !action.startsWith('alerts.rule'));
    expect(actions).toEqual(['alerts.unsilence pmax-rows', 'alerts.ack pmax-rows shard:0/analytics_hourly', 'alerts.silence pmax-rows']);
  });

  it('without a webhook configured, a firing alert is recorded and its delivery skipped', async () => {
    const alerts = alertService({ webhook: false });
    await alerts.evaluate(snapshotOf([pmaxFigure(2)]));
    expect(await alerts.deliverDue()).toBe(0);
    expect((await alerts.deliveries({ limit: 1 }))[0]).toMatchObject({ state: 'skipped', error: 'no webhook configured' });
    expect(await alerts.testWebhook()).toMatchObject({ configured: false, delivered: false });
  });

  it('a webhook nobody listens on: the attempt says the connection was refused, without the URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const alerts = alertService({ url: `http://127.0.0.1:${port}/services/T1/B1/secret-token-xyz` });
    await alerts.evaluate(snapshotOf([pmaxFigure(1)]));
    expect(await alerts.deliverDue()).toBe(1);
    const [delivery] = await alerts.deliveries({ limit: 1 });
    expect(delivery).toMatchObject({ state: 'pending', error: 'the webhook could not be reached: ECONNREFUSED' });
    expect(await alerts.testWebhook()).toMatchObject({ delivered: false, error: 'the webhook could not be reached: ECONNREFUSED' });
  });

  it('the history past its retention is pruned, except a delivery still pending; what is recent stays', async () => {
    const alerts = alertService();
    await onlyRules(alerts, 'pmax-rows');
    const dailyPmax: Figure = { ...pmaxFigure(3), scope: makeScope({ shard: 0, table: 'analytics_daily' }) };
    const shard1Pmax: Figure = { ...pmaxFigure(4), scope: makeScope({ shard: 1, table: 'analytics_hourly' }) };
    const now = clock;
    clock = new Date(now.getTime() - 100 * 24 * HOUR);
    await alerts.evaluate(snapshotOf([pmaxFigure(2)]));
    expect(await alerts.deliverDue()).toBe(1);
    await alerts.evaluate(snapshotOf([pmaxFigure(2), dailyPmax]));
    slack.answers = [500];
    expect(await alerts.deliverDue()).toBe(1);
    clock = now;
    await alerts.evaluate(snapshotOf([pmaxFigure(2), dailyPmax, shard1Pmax]));

    const pruned = await new AlertStore(cluster.services.state.control).prune(now);
    expect(pruned).toMatchObject({ transitions: 2, deliveries: 1 });
    expect((await alerts.history({ limit: 100 })).map((transition) => transition.scope)).toEqual(['shard:1/analytics_hourly']);
    const deliveries = await alerts.deliveries({ limit: 100 });
    expect(deliveries.map((delivery) => [delivery.scope, delivery.state])).toEqual(expect.arrayContaining([['shard:0/analytics_daily', 'pending']]));
    expect(deliveries.some((delivery) => delivery.scope === 'shard:0/analytics_hourly')).toBe(false);
    const [orphans] = await control<Array<{ n: number }>>('SELECT COUNT(*) AS n FROM strata_alert_delivery_attempts a LEFT JOIN strata_alert_deliveries d ON d.id = a.delivery_id WHERE d.id IS NULL');
    expect(Number(orphans?.n)).toBe(0);
    // The states themselves are not history: the old alerts still fire.
    expect((await alerts.list({ includeResolved: false })).firing).toBe(3);
  });
});
