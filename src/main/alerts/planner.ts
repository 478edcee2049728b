import type { AlertRule, AlertSeverity, AlertSilence, AlertStateName } from '../../shared/alerts';
import { METRICS, formatMetricValue, type Figure, type FigureLink, type FigureScope, type MonitorSnapshot } from '../../shared/monitor';
import { formatThreshold } from './rules';

/**
 * The alert state machine, with no I/O: one probe cycle's figures applied to every rule and the states stored so
 * far give the rows to write, the transitions to record and the deliveries to queue. Per rule and scope:
 * inactive → pending (a breach) → firing (the breach lasted forSeconds; 0 fires at once) → resolved (no breach
 * while firing); pending → inactive when the breach ends first; resolved → pending or firing on a new breach.
 * A figure whose value is null (unreachable, not configured) changes nothing: unknown is not "fine".
 */

/** One row of strata_alert_states as the planner sees it. */
export interface StoredAlertState {
  rule: string;
  scope: FigureScope;
  state: AlertStateName;
  severity: AlertSeverity;
  value: number | null;
  threshold: number;
  since: Date;
  firedAt?: Date;
  resolvedAt?: Date;
  message: string;
  link?: FigureLink;
  ackedBy?: string;
  ackedAt?: Date;
}

export type DeliveryKind = 'firing' | 'resolved';

export interface PlannedDelivery {
  kind: DeliveryKind;
  /** `skipped` when nobody is to be told: silenced, or no webhook configured (`error` says which). */
  state: 'pending' | 'skipped';
  error?: string;
}

export interface PlannedTransition {
  rule: string;
  scope: string;
  from: AlertStateName;
  to: AlertStateName;
  at: Date;
  value: number | null;
  threshold: number;
  severity: AlertSeverity;
  message: string;
  link?: FigureLink;
  delivery?: PlannedDelivery;
}

export interface EvaluationInput {
  rules: readonly AlertRule[];
  states: readonly StoredAlertState[];
  /** Silences not ended by hand; the planner itself checks `until` against `now`. */
  silences: readonly AlertSilence[];
  snapshot: MonitorSnapshot;
  now: Date;
  webhookConfigured: boolean;
}

export interface EvaluationPlan {
  /** Rows to insert or replace: only those whose state, value, message or rule settings changed. */
  states: StoredAlertState[];
  transitions: PlannedTransition[];
}

export function stateKey(rule: string, scope: string): string {
  return `${rule}\u0000${scope}`;
}

export function isBreach(rule: Pick<AlertRule, 'comparator' | 'threshold'>, value: number): boolean {
  return rule.comparator === '>' ? value > rule.threshold : value < rule.threshold;
}

export function figureMatches(rule: Pick<AlertRule, 'metric' | 'level'>, figure: Figure): boolean {
  return figure.metric === rule.metric && (rule.level === undefined || figure.scope.level === rule.level);
}

/** The silence that covers the rule's scope now: scoped silences and rule-wide ones alike, the longest first. */
export function activeSilence(silences: readonly AlertSilence[], rule: string, scope: string, now: Date): AlertSilence | undefined {
  return silences
    .filter((silence) => silence.rule === rule && (silence.scope === undefined || silence.scope === scope) && Date.parse(silence.until) > now.getTime())
    .sort((a, b) => Date.parse(b.until) - Date.parse(a.until))[0];
}

export function planEvaluation(input: EvaluationInput): EvaluationPlan {
  const stored = new Map(input.states.map((state) => [stateKey(state.rule, state.scope.key), state]));
  const plan: EvaluationPlan = { states: [], transitions: [] };
  const seen = new Set<string>();
  for (const rule of input.rules) {
    if (!rule.enabled) {
      for (const state of input.states.filter((candidate) => candidate.rule === rule.name)) endForDisabledRule(input, rule, state, plan);
      continue;
    }
    for (const figure of input.snapshot.figures) {
      if (!figureMatches(rule, figure)) continue;
      const key = stateKey(rule.name, figure.scope.key);
      // Two figures of one scope in a cycle: the first decides, so a cycle cannot move a state twice.
      if (seen.has(key)) continue;
      seen.add(key);
      if (figure.value === null) continue;
      applyFigure(input, rule, figure as Figure & { value: number }, stored.get(key), plan);
    }
  }
  return plan;
}

function applyFigure(input: EvaluationInput, rule: AlertRule, figure: Figure & { value: number }, current: StoredAlertState | undefined, plan: EvaluationPlan): void {
  const { now } = input;
  const breach = isBreach(rule, figure.value);
  const from: AlertStateName = current?.state ?? 'inactive';
  const message = alertMessage(rule, figure, input.snapshot, breach);
  const observed = { severity: rule.severity, value: figure.value, threshold: rule.threshold, message, link: figure.link };

  if (breach && (from === 'inactive' || from === 'resolved')) {
    const to: AlertStateName = rule.forSeconds === 0 ? 'firing' : 'pending';
    // A new episode: an earlier acknowledgement was for the one before.
    const next: StoredAlertState = { rule: rule.name, scope: figure.scope, state: to, since: now, ...observed, ...(to === 'firing' ? { firedAt: now } : {}) };
    record(input, plan, next, from);
    return;
  }
  if (breach && from === 'pending' && current) {
    if (now.getTime() - current.since.getTime() >= rule.forSeconds * 1000) {
      record(input, plan, { ...current, ...observed, scope: figure.scope, state: 'firing', since: now, firedAt: now }, from);
    } else {
      refresh(plan, current, { ...current, ...observed, scope: figure.scope });
    }
    return;
  }
  if (breach && current) {
    refresh(plan, current, { ...current, ...observed, scope: figure.scope });
    return;
  }
  if (!breach && from === 'pending' && current) {
    record(input, plan, withoutUndefined({ ...current, ...observed, scope: figure.scope, state: 'inactive', since: now, firedAt: undefined, ackedBy: undefined, ackedAt: undefined }), from);
    return;
  }
  if (!breach && from === 'firing' && current) {
    record(input, plan, { ...current, ...observed, scope: figure.scope, state: 'resolved', since: now, resolvedAt: now }, from);
  }
  // Not breaching while inactive or resolved: nothing to write.
}

function endForDisabledRule(input: EvaluationInput, rule: AlertRule, state: StoredAlertState, plan: EvaluationPlan): void {
  const { now } = input;
  if (state.state === 'pending') {
    record(input, plan, withoutUndefined({ ...state, state: 'inactive', since: now, message: `${rule.name} was disabled`, ackedBy: undefined, ackedAt: undefined }), 'pending');
  } else if (state.state === 'firing') {
    record(input, plan, { ...state, state: 'resolved', since: now, resolvedAt: now, message: `${rule.name} was disabled while firing: ${state.message}` }, 'firing');
  }
}

function record(input: EvaluationInput, plan: EvaluationPlan, next: StoredAlertState, from: AlertStateName): void {
  const fresh = from === 'inactive' || from === 'resolved';
  const state = fresh ? withoutUndefined({ ...next, ackedBy: undefined, ackedAt: undefined, resolvedAt: undefined }) : next;
  plan.states.push(state);
  const transition: PlannedTransition = {
    rule: state.rule,
    scope: state.scope.key,
    from,
    to: state.state,
    at: input.now,
    value: state.value,
    threshold: state.threshold,
    severity: state.severity,
    message: state.message,
    ...(state.link ? { link: state.link } : {}),
  };
  const notifies = state.state === 'firing' || (state.state === 'resolved' && from === 'firing');
  if (notifies) transition.delivery = plannedDelivery(input, state, state.state === 'firing' ? 'firing' : 'resolved');
  plan.transitions.push(transition);
}

function plannedDelivery(input: EvaluationInput, state: StoredAlertState, kind: DeliveryKind): PlannedDelivery {
  const silence = activeSilence(input.silences, state.rule, state.scope.key, input.now);
  if (silence) return { kind, state: 'skipped', error: `silenced until ${silence.until}` };
  if (!input.webhookConfigured) return { kind, state: 'skipped', error: 'no webhook configured' };
  return { kind, state: 'pending' };
}

/** A still-breaching (or still-quiet) state whose value, message or rule settings moved: written without a transition. */
function refresh(plan: EvaluationPlan, current: StoredAlertState, next: StoredAlertState): void {
  const same =
    current.value === next.value &&
    current.message === next.message &&
    current.threshold === next.threshold &&
    current.severity === next.severity &&
    JSON.stringify(current.link ?? null) === JSON.stringify(next.link ?? null) &&
    JSON.stringify(current.scope) === JSON.stringify(next.scope);
  if (!same) plan.states.push(withoutUndefined(next));
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}

function shardName(snapshot: MonitorSnapshot, index: number | undefined): string {
  if (index === undefined) return 'the cluster';
  return snapshot.shards.find((shard) => shard.index === index)?.name ?? `shard${index}`;
}

function where(snapshot: MonitorSnapshot, scope: FigureScope): string {
  if (scope.shard === undefined) return '';
  const shard = shardName(snapshot, scope.shard);
  if (scope.level) return ` on ${shard} (${scope.level})`;
  if (scope.table) return ` on ${shard} ${scope.table}`;
  return ` on ${shard}`;
}

function windowText(iso: string | undefined): string | undefined {
  if (!iso) return undefined;
  const time = new Date(iso);
  return Number.isNaN(time.getTime()) ? iso : time.toISOString().slice(0, 16).replace('T', ' ');
}

/** What a person reads in the console and in Slack: what is wrong, where, by how much, and what is behind it. */
export function alertMessage(rule: AlertRule, figure: Figure & { value: number }, snapshot: MonitorSnapshot, breach: boolean): string {
  const shard = shardName(snapshot, figure.scope.shard);
  const problem = figure.note ?? snapshot.shards.find((candidate) => candidate.index === figure.scope.shard)?.problem?.message;
  switch (rule.metric) {
    case 'shard.up':
      return breach ? `${shard} unreachable: ${problem ?? 'it does not answer'}` : `${shard} answers again`;
    case 'redis.up':
      return breach ? `Redis unreachable: ${figure.note ?? 'it does not answer'}` : 'Redis answers again';
    case 'aggregation.duration_s': {
      const level = figure.scope.level ?? 'a';
      const window = windowText(figure.link?.windowStart);
      const run = figure.link?.runId !== undefined ? ` (run ${figure.link.runId})` : '';
      const took = `${Math.round(figure.value)} s`;
      if (!breach) return `aggregation of ${level} windows on ${shard} is back under ${formatThreshold(rule, rule.threshold)}: the latest took ${took}${run}`;
      return `aggregation of ${level} window ${window ? `${window} ` : ''}on ${shard} took ${took}${run}`;
    }
    default: {
      const label = METRICS[rule.metric].label;
      const value = formatMetricValue(rule.metric, figure.value);
      const threshold = formatThreshold(rule, rule.threshold);
      const at = where(snapshot, figure.scope);
      const sentence = `${label[0]!.toUpperCase()}${label.slice(1)}${at}`;
      if (!breach) return `${sentence} is back at ${value} (threshold ${rule.comparator} ${threshold})`;
      return `${sentence} is ${value}, ${rule.comparator === '>' ? 'above' : 'below'} ${threshold}`;
    }
  }
}
