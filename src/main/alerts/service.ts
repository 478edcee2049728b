import type {
  AlertAckRequest,
  AlertDelivery,
  AlertList,
  AlertRule,
  AlertRuleSetRequest,
  AlertSilence,
  AlertSilenceRequest,
  AlertState,
  AlertTransition,
  CheckReport,
  WebhookTestReport,
} from '../../shared/alerts';
import { alertSilenceRequestSchema } from '../../shared/alerts';
import { scopeKey, type MonitorSnapshot } from '../../shared/monitor';
import type { AlertsProfile } from '../../shared/profile';
import { ErrorCode, StrataError } from '../../shared/errors';
import { hostname } from 'node:os';
import { osUser } from '../identity';
import type { Disposable } from '../lifecycle/disposable';
import { Emitter } from '../lifecycle/emitter';
import { asProblem } from '../lifecycle/problem';
import { WorkTracker } from '../lifecycle/work-tracker';
import type { ScopedLogger } from '../log';
import type { SecretResolver } from '../secrets';
import { CONTROL_SHARD, type ClusterState, type ControlSession } from '../state';
import type { MonitorService } from '../monitor/service';
import { activeSilence, planEvaluation, type StoredAlertState } from './planner';
import { ALERT_RULES_SETTING, applyRuleEdit, builtInRule, effectiveRules, parseStoredOverrides, type RuleOverrides } from './rules';
import { AlertStore } from './store';
import { alertWebhookMessage, postWebhook, resolveWebhookUrl, testWebhookMessage, webhookConfigured, webhookSourceText } from './webhook';

export interface AlertServiceOptions {
  now?: () => Date;
  /** The fencing token of the scheduler lease this process holds, or undefined: only the holder evaluates and delivers. */
  leaseToken?: () => number | undefined;
  /** Delays between delivery attempts, in ms; default 30 s, 2 min, 10 min, 30 min, 1 h (then failed). */
  retryDelaysMs?: readonly number[];
  /** Deadline of one webhook request; default 10 s. */
  webhookTimeoutMs?: number;
  actor?: string;
}

/** Rules over the monitor's figures, states per scope, silences, acks, the transition history and webhook delivery. */
export interface AlertService extends Disposable {
  /** Lease holder only: applies one cycle's figures to every rule, records transitions, queues deliveries. */
  evaluate(snapshot: MonitorSnapshot): Promise<AlertTransition[]>;
  /** Lease holder only: sends the deliveries that are due; returns how many were attempted. */
  deliverDue(): Promise<number>;
  list(request: { includeResolved: boolean }): Promise<AlertList>;
  history(request: { limit: number; rule?: string }): Promise<AlertTransition[]>;
  rules(): Promise<AlertRule[]>;
  setRule(request: AlertRuleSetRequest): Promise<AlertRule>;
  silence(request: AlertSilenceRequest): Promise<AlertSilence>;
  unsilence(request: { id: number }): Promise<AlertSilence>;
  ack(request: AlertAckRequest): Promise<AlertState>;
  deliveries(request: { limit: number }): Promise<AlertDelivery[]>;
  testWebhook(): Promise<WebhookTestReport>;
  check(): Promise<CheckReport>;
  onChange(listener: (list: AlertList) => void): () => void;
}

/** The strata_settings row naming when the lease holder last evaluated, and with which fencing token. */
export const ALERT_EVALUATION_SETTING = 'alert-evaluation';
export const DEFAULT_RETRY_DELAYS_MS = [30_000, 120_000, 600_000, 1_800_000, 3_600_000] as const;
const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
const RESOLVED_SHOWN_MS = 24 * 3_600_000;
/** Deliveries sent per call, oldest first; the rest wait for the next cycle. */
const DELIVERIES_PER_CALL = 20;
const PRUNE_EVERY_MS = 3_600_000;

export class ClusterAlertService implements AlertService {
  private readonly clock: () => Date;
  private readonly actor: string;
  private readonly host: string;
  private readonly retryDelaysMs: readonly number[];
  private readonly webhookTimeoutMs: number;
  private readonly store: AlertStore;
  private readonly changes: Emitter<AlertList>;
  private readonly work = new WorkTracker('alerts');
  private readonly unsubscribeCycle: () => void;
  private cycleChain: Promise<void> = Promise.resolve();
  private waitingSnapshot?: MonitorSnapshot;
  private handlingCycle = false;
  private reportedOverrideProblems = false;
  /** What the last evaluation that reached the control shard used: the outage message needs them when it is down. */
  private lastRules?: AlertRule[];
  private lastSilences: AlertSilence[] = [];
  private controlOutage?: { since: Date; notified: boolean };
  private lastPrunedAt?: number;

  constructor(
    private readonly state: ClusterState,
    monitor: MonitorService,
    private readonly secrets: SecretResolver,
    private readonly profile: AlertsProfile | undefined,
    private readonly log: ScopedLogger,
    private readonly options: AlertServiceOptions = {},
  ) {
    this.clock = options.now ?? (() => new Date());
    this.actor = (options.actor ?? osUser()).slice(0, 255);
    this.host = hostname().slice(0, 255);
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.webhookTimeoutMs = options.webhookTimeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS;
    this.store = new AlertStore(state.control);
    this.changes = new Emitter(log, 'alert change');
    this.unsubscribeCycle = monitor.onCycle((snapshot) => this.onCycle(snapshot));
  }

  private get by(): string {
    return `${this.actor}@${this.host}`.slice(0, 255);
  }

  private leaseToken(): number | undefined {
    return this.options.leaseToken?.();
  }

  /**
   * Cycles are handled one after the other, so a slow webhook cannot make two evaluations overlap; while one is
   * handled only the newest cycle waits (an older one has nothing the newer lacks).
   */
  private onCycle(snapshot: MonitorSnapshot): void {
    if (this.work.stopping || this.leaseToken() === undefined) return;
    const idle = this.waitingSnapshot === undefined && !this.handlingCycle;
    this.waitingSnapshot = snapshot;
    if (idle) this.cycleChain = this.handleCycles();
  }

  private async handleCycles(): Promise<void> {
    this.handlingCycle = true;
    try {
      for (let snapshot = this.waitingSnapshot; snapshot; snapshot = this.waitingSnapshot) {
        this.waitingSnapshot = undefined;
        await this.handleCycle(snapshot);
      }
    } finally {
      this.handlingCycle = false;
    }
  }

  private async handleCycle(snapshot: MonitorSnapshot): Promise<void> {
    try {
      await this.evaluate(snapshot);
      await this.endControlOutage();
      await this.deliverDue();
      await this.pruneHistory();
      this.changes.emit(await this.list({ includeResolved: true }));
    } catch (error) {
      if (this.work.stopping) return;
      this.log.warn('alert evaluation of the probe cycle failed', error);
      await this.noticeControlOutage(snapshot);
    }
  }

  /** The lease holder drops alert history past its retention, at most once an hour; a failure waits for the next hour. */
  private async pruneHistory(): Promise<void> {
    const now = this.clock();
    if (this.lastPrunedAt !== undefined && now.getTime() - this.lastPrunedAt < PRUNE_EVERY_MS) return;
    this.lastPrunedAt = now.getTime();
    try {
      const pruned = await this.store.prune(now);
      if (pruned.transitions + pruned.silences + pruned.deliveries > 0) {
        this.log.info(`alert history pruned: ${pruned.transitions} transitions, ${pruned.silences} silences, ${pruned.deliveries} deliveries past their retention`);
      }
    } catch (error) {
      this.log.warn('could not prune the alert history', error);
    }
  }

  /**
   * The control shard holds the states and the outbox, so its own outage cannot be recorded: the holder tells the
   * webhook directly, once the rule's for-duration has passed, and again (resolved) on the first evaluation that
   * succeeds after it. Nothing of it is in the history; the log has it.
   */
  private async noticeControlOutage(snapshot: MonitorSnapshot): Promise<void> {
    const control = snapshot.shards.find((shard) => shard.index === CONTROL_SHARD);
    if (!control || control.reachable) return;
    const rule = (this.lastRules ?? effectiveRules({})).find((candidate) => candidate.name === 'shard-unreachable');
    if (!rule?.enabled) return;
    const now = this.clock();
    this.controlOutage ??= { since: now, notified: false };
    if (this.controlOutage.notified || now.getTime() - this.controlOutage.since.getTime() < rule.forSeconds * 1000) return;
    if (activeSilence(this.lastSilences, rule.name, scopeKey({ shard: CONTROL_SHARD }), now)) return;
    const problem = control.problem?.message ?? 'it does not answer';
    const sent = await this.sendDirect(rule, 'firing', `${control.name} unreachable: ${problem} (it holds the alert history, so this message is sent directly and not recorded)`, now);
    if (sent) this.controlOutage.notified = true;
  }

  private async endControlOutage(): Promise<void> {
    const outage = this.controlOutage;
    this.controlOutage = undefined;
    if (!outage?.notified) return;
    const rule = (this.lastRules ?? effectiveRules({})).find((candidate) => candidate.name === 'shard-unreachable');
    if (rule) await this.sendDirect(rule, 'resolved', `the control shard answers again (down since ${outage.since.toISOString()})`, this.clock());
  }

  private async sendDirect(rule: AlertRule, kind: 'firing' | 'resolved', message: string, at: Date): Promise<boolean> {
    let url: string | undefined;
    try {
      url = await resolveWebhookUrl(this.secrets, this.profile);
    } catch (error) {
      this.log.warn('cannot send the control shard outage message', error);
      return false;
    }
    if (!url) return false;
    const transition: AlertTransition = {
      id: 0,
      rule: rule.name,
      scope: scopeKey({ shard: CONTROL_SHARD }),
      from: kind === 'firing' ? 'pending' : 'firing',
      to: kind,
      at: at.toISOString(),
      value: kind === 'firing' ? 0 : 1,
      threshold: rule.threshold,
      severity: rule.severity,
      message,
    };
    const answer = await postWebhook(url, alertWebhookMessage(transition, kind), { timeoutMs: this.webhookTimeoutMs, signal: this.work.signal });
    if (answer.ok) this.log.info(`control shard outage message (${kind}) sent directly: ${message}`);
    else this.log.warn(`control shard outage message (${kind}) not delivered: ${answer.error}`);
    return answer.ok;
  }

  /** Resolves once the probe cycles handed over so far are evaluated and delivered (tests, and the agent's shutdown). */
  idle(): Promise<void> {
    return this.cycleChain;
  }

  evaluate(snapshot: MonitorSnapshot): Promise<AlertTransition[]> {
    return this.work.track(async () => {
      const token = this.leaseToken();
      if (token === undefined) return [];
      const now = this.clock();
      const rules = await this.rules();
      this.lastRules = rules;
      await this.ensureEvaluationRow(now);
      const transitions = await this.state.control.transaction(async (session) => {
        await this.checkFence(session, token);
        const states = await this.store.statesForUpdate(session);
        const silences = await this.store.activeSilences(now, session);
        this.lastSilences = silences;
        const plan = planEvaluation({ rules, states, silences, snapshot, now, webhookConfigured: webhookConfigured(this.profile) });
        const written = await this.store.writeEvaluation(session, plan, token, now);
        await this.state.settings.write({ name: ALERT_EVALUATION_SETTING, value: JSON.stringify({ at: now.toISOString(), token }), updatedAt: now, updatedBy: this.by }, session);
        return written;
      });
      for (const transition of transitions) this.log.info(`${transition.rule} ${transition.scope}: ${transition.from} → ${transition.to}: ${transition.message}`);
      return transitions;
    });
  }

  /**
   * The fence row must exist before evaluators lock it: two transactions locking a missing row take gap locks and
   * then deadlock on the insert, where locking a row that exists simply makes the second wait for the first.
   */
  private async ensureEvaluationRow(now: Date): Promise<void> {
    if (await this.state.settings.read(ALERT_EVALUATION_SETTING)) return;
    await this.state.settings.write({ name: ALERT_EVALUATION_SETTING, value: JSON.stringify({ token: 0 }), updatedAt: now, updatedBy: this.by });
  }

  /**
   * The per-cycle fence: the evaluation row is locked first, so evaluators take turns and each plans from the
   * states the one before wrote; a token below the last evaluator's (a holder whose lease lapsed while paused)
   * writes nothing. The lease is asked again after the lock wait, which may have been long.
   */
  private async checkFence(session: ControlSession, token: number): Promise<void> {
    const last = await this.state.settings.readForUpdate(session, ALERT_EVALUATION_SETTING);
    const lastToken = last ? Number((JSON.parse(last.value) as { token?: number }).token ?? 0) : 0;
    const highest = Math.max(lastToken, await this.store.highestToken(session));
    if (highest > token) {
      throw new StrataError(ErrorCode.FencedOut, `alert evaluation refused: another holder evaluated with fencing token ${highest}, above this process's ${token}`);
    }
    if (this.leaseToken() !== token) throw new StrataError(ErrorCode.LeaseLost, 'alert evaluation stopped: this process no longer holds the scheduler lease');
  }

  deliverDue(): Promise<number> {
    return this.work.track(async () => {
      if (this.leaseToken() === undefined) return 0;
      const due = await this.store.dueDeliveries(this.clock(), DELIVERIES_PER_CALL);
      if (due.length === 0) return 0;
      let url: string | undefined;
      let urlProblem = 'no webhook configured';
      try {
        url = await resolveWebhookUrl(this.secrets, this.profile);
      } catch (error) {
        urlProblem = asProblem(error).message;
      }
      let attempted = 0;
      for (const delivery of due) {
        if (this.work.stopping || this.leaseToken() === undefined) break;
        const attempt = delivery.attempts + 1;
        const startedAt = this.clock();
        const delay = this.retryDelaysMs[attempt - 1];
        const retryAt = delay === undefined ? null : new Date(startedAt.getTime() + delay);
        // The last attempt also gets a time to be picked up again: a process that dies while sending it must not
        // leave the delivery pending with nothing due, forever.
        const claimedUntil = retryAt ?? new Date(startedAt.getTime() + this.webhookTimeoutMs + 60_000);
        if (!(await this.store.claim(delivery.id, delivery.attempts, claimedUntil))) continue;
        attempted += 1;
        const answer = url
          ? await postWebhook(url, alertWebhookMessage(delivery.transition, delivery.kind), { timeoutMs: this.webhookTimeoutMs, signal: this.work.signal })
          : { ok: false, error: urlProblem, durationMs: 0, status: undefined };
        await this.store.recordAttempt(delivery.id, {
          attempt,
          at: startedAt.toISOString(),
          ...(answer.status !== undefined ? { status: answer.status } : {}),
          ...(answer.error ? { error: answer.error } : {}),
          durationMs: answer.durationMs,
        });
        const what = `${delivery.kind} message of ${delivery.transition.rule} ${delivery.transition.scope}`;
        if (answer.ok) {
          await this.store.finish(delivery.id, { state: 'delivered', at: this.clock() });
          this.log.info(`${what} delivered (attempt ${attempt})`);
        } else if (retryAt === null) {
          await this.store.finish(delivery.id, { state: 'failed', at: this.clock(), error: `all ${attempt} attempts failed; the last: ${answer.error}` });
          this.log.warn(`${what} failed after ${attempt} attempts: ${answer.error}`);
        } else {
          await this.store.finish(delivery.id, { state: 'pending', at: this.clock(), error: answer.error, nextAttemptAt: retryAt });
          this.log.warn(`${what}: attempt ${attempt} failed (${answer.error}); next at ${retryAt.toISOString()}`);
        }
      }
      return attempted;
    });
  }

  list(request: { includeResolved: boolean }): Promise<AlertList> {
    return this.work.track(async () => {
      const now = this.clock();
      const [states, silences, evaluation] = await Promise.all([this.store.states(), this.store.activeSilences(now), this.state.settings.read(ALERT_EVALUATION_SETTING)]);
      const rank = (state: StoredAlertState) => (state.state === 'firing' ? 0 : 1) * 2 + (state.severity === 'critical' ? 0 : 1);
      const active = states.filter((state) => state.state === 'pending' || state.state === 'firing').sort((a, b) => rank(a) - rank(b) || a.since.getTime() - b.since.getTime());
      const resolved = request.includeResolved
        ? states
            .filter((state) => state.state === 'resolved' && state.resolvedAt !== undefined && now.getTime() - state.resolvedAt.getTime() <= RESOLVED_SHOWN_MS)
            .sort((a, b) => b.resolvedAt!.getTime() - a.resolvedAt!.getTime())
        : [];
      const alerts = [...active, ...resolved].map((state) => toAlertState(state, activeSilence(silences, state.rule, state.scope.key, now)));
      const evaluatedAt = evaluation ? (JSON.parse(evaluation.value) as { at?: string }).at : undefined;
      return {
        alerts,
        firing: active.filter((state) => state.state === 'firing').length,
        pending: active.filter((state) => state.state === 'pending').length,
        ...(evaluatedAt ? { evaluatedAt } : {}),
      };
    });
  }

  history(request: { limit: number; rule?: string }): Promise<AlertTransition[]> {
    return this.work.track(() => this.store.history(Math.max(1, Math.min(1000, Math.floor(request.limit))), request.rule));
  }

  rules(): Promise<AlertRule[]> {
    return this.work.track(async () => effectiveRules(await this.readOverrides()));
  }

  private async readOverrides(session?: ControlSession): Promise<RuleOverrides> {
    const stored = session ? await this.state.settings.readForUpdate(session, ALERT_RULES_SETTING) : await this.state.settings.read(ALERT_RULES_SETTING);
    const { overrides, problems } = parseStoredOverrides(stored?.value);
    if (problems.length > 0 && !this.reportedOverrideProblems) {
      this.reportedOverrideProblems = true;
      this.log.warn(`alert rules: ${problems.join('; ')}`);
    }
    return overrides;
  }

  setRule(request: AlertRuleSetRequest): Promise<AlertRule> {
    return this.work.track(async () => {
      builtInRule(request.rule);
      const edit = await this.state.control.transaction(async (session) => {
        // The row lock orders concurrent edits, so each audit entry says what it really replaced.
        const overrides = await this.readOverrides(session);
        const applied = applyRuleEdit(overrides, request);
        const at = this.clock();
        await this.state.settings.write({ name: ALERT_RULES_SETTING, value: JSON.stringify(applied.overrides), updatedAt: at, updatedBy: this.by }, session);
        const detail = applied.changes.length > 0 ? applied.changes.join(', ') : 'no change';
        await this.state.audit.write({ at, actor: this.actor, host: this.host, action: request.reset ? 'alerts.rule-reset' : 'alerts.rule-set', target: request.rule, detail }, session);
        return { ...applied, detail };
      });
      this.log.info(`alert rule ${request.rule} set by ${this.by}: ${edit.detail}`);
      this.emitChange();
      return edit.rule;
    });
  }

  silence(request: AlertSilenceRequest): Promise<AlertSilence> {
    return this.work.track(async () => {
      const checked = alertSilenceRequestSchema.safeParse(request);
      if (!checked.success) throw new StrataError(ErrorCode.InvalidInput, checked.error.issues.map((issue) => `${issue.path.join('.') || 'silence'}: ${issue.message}`).join('; '));
      const { rule, scope, comment } = checked.data;
      builtInRule(rule);
      const now = this.clock();
      const until = new Date(checked.data.until);
      if (Number.isNaN(until.getTime())) throw new StrataError(ErrorCode.InvalidInput, `silence until ${checked.data.until}: not a time (use ISO-8601 such as 2026-12-02T18:00:00Z)`);
      if (until.getTime() <= now.getTime()) throw new StrataError(ErrorCode.InvalidInput, `silence until ${until.toISOString()}: that time has passed`);
      const silence = await this.state.control.transaction(async (session) => {
        const created = await this.store.insertSilence(session, { rule, ...(scope ? { scope } : {}), until: until.toISOString(), comment, createdBy: this.by, createdAt: now.toISOString() });
        await this.state.audit.write(
          { at: now, actor: this.actor, host: this.host, action: 'alerts.silence', target: scope ? `${rule} ${scope}` : rule, detail: JSON.stringify({ id: created.id, until: created.until, comment }) },
          session,
        );
        return created;
      });
      this.log.info(`${rule}${scope ? ` ${scope}` : ''} silenced until ${silence.until} by ${this.by}`);
      this.emitChange();
      return silence;
    });
  }

  unsilence(request: { id: number }): Promise<AlertSilence> {
    return this.work.track(async () => {
      const now = this.clock();
      const silence = await this.state.control.transaction(async (session) => {
        const ended = await this.store.endSilence(session, request.id, now);
        if (!ended) throw new StrataError(ErrorCode.AlertNotFound, `no silence has the id ${request.id}`);
        await this.state.audit.write(
          { at: now, actor: this.actor, host: this.host, action: 'alerts.unsilence', target: ended.scope ? `${ended.rule} ${ended.scope}` : ended.rule, detail: JSON.stringify({ id: ended.id, until: ended.until }) },
          session,
        );
        return ended;
      });
      this.log.info(`silence ${silence.id} of ${silence.rule} ended by ${this.by}`);
      this.emitChange();
      return silence;
    });
  }

  ack(request: AlertAckRequest): Promise<AlertState> {
    return this.work.track(async () => {
      builtInRule(request.rule);
      const now = this.clock();
      const acked = await this.state.control.transaction(async (session) => {
        const current = await this.store.state(request.rule, request.scope, session);
        if (!current || (current.state !== 'pending' && current.state !== 'firing')) {
          throw new StrataError(ErrorCode.AlertNotFound, `no pending or firing alert ${request.rule} on ${request.scope}`);
        }
        await this.store.ack(session, request.rule, request.scope, this.by, now);
        await this.state.audit.write(
          { at: now, actor: this.actor, host: this.host, action: 'alerts.ack', target: `${request.rule} ${request.scope}`, detail: request.comment ?? `acknowledged while ${current.state}` },
          session,
        );
        return { ...current, ackedBy: this.by, ackedAt: now };
      });
      this.log.info(`${request.rule} ${request.scope} acknowledged by ${this.by}`);
      this.emitChange();
      const silences = await this.store.activeSilences(now);
      return toAlertState(acked, activeSilence(silences, acked.rule, acked.scope.key, now));
    });
  }

  deliveries(request: { limit: number }): Promise<AlertDelivery[]> {
    return this.work.track(() => this.store.deliveries(Math.max(1, Math.min(1000, Math.floor(request.limit)))));
  }

  testWebhook(): Promise<WebhookTestReport> {
    return this.work.track(async () => {
      const source = webhookSourceText(this.profile);
      if (!source) return { configured: false, delivered: false, durationMs: 0, error: 'no webhook configured: set alerts.webhookUrlEnv or alerts.webhookUrlKeychain in the profile' };
      let url: string | undefined;
      try {
        url = await resolveWebhookUrl(this.secrets, this.profile);
      } catch (error) {
        return { configured: true, source, delivered: false, durationMs: 0, error: asProblem(error).message };
      }
      if (!url) return { configured: true, source, delivered: false, durationMs: 0, error: `${source} holds no URL` };
      const answer = await postWebhook(url, testWebhookMessage(this.clock(), this.by), { timeoutMs: this.webhookTimeoutMs, signal: this.work.signal });
      this.log.info(`test message to the webhook from ${source}: ${answer.ok ? `HTTP ${answer.status}` : answer.error}`);
      return {
        configured: true,
        source,
        delivered: answer.ok,
        ...(answer.status !== undefined ? { status: answer.status } : {}),
        durationMs: answer.durationMs,
        ...(answer.error ? { error: answer.error } : {}),
      };
    });
  }

  check(): Promise<CheckReport> {
    return this.work.track(async () => {
      const list = await this.list({ includeResolved: false });
      const firing = list.alerts.filter((alert) => alert.state === 'firing');
      // A silence is a person saying "I know": cron and Nagios-style checkers are told too, so it does not count.
      const loud = firing.filter((alert) => !alert.silence);
      const exitCode = loud.some((alert) => alert.severity === 'critical') ? 2 : loud.length > 0 ? 1 : 0;
      const silenced = firing.length - loud.length;
      const silencedText = silenced > 0 ? ` (${silenced} silenced)` : '';
      const summary =
        loud.length === 0
          ? `nothing is firing${silencedText}`
          : `${loud.length} alert${loud.length === 1 ? '' : 's'} firing${silencedText}: ${loud.map((alert) => `${alert.severity} ${alert.rule} ${alert.scope.key}`).join(', ')}`;
      return { exitCode, firing, summary };
    });
  }

  onChange(listener: (list: AlertList) => void): () => void {
    return this.changes.on(listener);
  }

  private emitChange(): void {
    if (this.changes.size === 0) return;
    void this.list({ includeResolved: true }).then(
      (list) => this.changes.emit(list),
      (error: unknown) => this.log.warn('could not read the alerts after a change', error),
    );
  }

  async dispose(): Promise<void> {
    this.unsubscribeCycle();
    await this.work.dispose();
    await this.cycleChain;
  }
}

function toAlertState(state: StoredAlertState, silence: AlertSilence | undefined): AlertState {
  return {
    rule: state.rule,
    scope: state.scope,
    state: state.state,
    severity: state.severity,
    value: state.value,
    threshold: state.threshold,
    since: state.since.toISOString(),
    ...(state.firedAt ? { firedAt: state.firedAt.toISOString() } : {}),
    ...(state.resolvedAt ? { resolvedAt: state.resolvedAt.toISOString() } : {}),
    message: state.message,
    ...(state.link ? { link: state.link } : {}),
    ...(silence ? { silence } : {}),
    ...(state.ackedBy ? { ackedBy: state.ackedBy } : {}),
    ...(state.ackedAt ? { ackedAt: state.ackedAt.toISOString() } : {}),
  };
}
