import type { AlertDelivery, AlertSilence, AlertStateName, AlertTransition, DeliveryAttempt } from '../../shared/alerts';
import { ErrorCode, StrataError } from '../../shared/errors';
import type { FigureLink, FigureScope } from '../../shared/monitor';
import { ROLLUP_LEVELS } from '../../shared/rollup';
import type { ControlSession, ControlShard } from '../state';
import type { DeliveryKind, EvaluationPlan, StoredAlertState } from './planner';

/**
 * Alert states, transitions, silences and the delivery outbox on the control shard (migration 8), so every console
 * and agent of the cluster sees the same alerts, and a webhook that is down never loses one.
 */

type Query = ControlSession['query'];

interface StateRow {
  rule: string;
  scope: string;
  state: string;
  severity: string;
  value: number | null;
  threshold: number;
  since: Date;
  fired_at: Date | null;
  resolved_at: Date | null;
  message: string;
  link: string | null;
  acked_by: string | null;
  acked_at: Date | null;
}

interface TransitionRow {
  id: number | string;
  rule: string;
  scope: string;
  from_state: string;
  to_state: string;
  at: Date;
  value: number | null;
  threshold: number;
  severity: string;
  message: string;
  link: string | null;
}

interface SilenceRow {
  id: number | string;
  rule: string;
  scope: string | null;
  until: Date;
  comment: string;
  created_by: string;
  created_at: Date;
}

interface DeliveryRow {
  id: number | string;
  transition_id: number | string;
  rule: string;
  scope: string;
  kind: string;
  target: string;
  state: string;
  attempts: number;
  created_at: Date;
  next_attempt_at: Date | null;
  delivered_at: Date | null;
  error: string | null;
}

interface AttemptRow {
  delivery_id: number | string;
  attempt: number;
  at: Date;
  status: number | null;
  error: string | null;
  duration_ms: number;
}

/** A pending delivery with what its message says. */
export interface DueDelivery {
  id: number;
  kind: DeliveryKind;
  attempts: number;
  transition: AlertTransition;
}

const STATE_COLUMNS = 'rule, scope, state, severity, value, threshold, since, fired_at, resolved_at, message, link, acked_by, acked_at';
const TRANSITION_COLUMNS = 'id, rule, scope, from_state, to_state, at, value, threshold, severity, message, link';
const SILENCE_COLUMNS = 'id, rule, scope, until, comment, created_by, created_at';
const DELIVERY_COLUMNS = 'id, transition_id, rule, scope, kind, target, state, attempts, created_at, next_attempt_at, delivered_at, error';
const MESSAGE_LIMIT = 1024;

function parseLink(text: string | null): FigureLink | undefined {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as FigureLink;
  } catch {
    return undefined;
  }
}

/** The scope's fields back from its key: `shard:0/hourly` is a level or a table; the stored link tells which. */
export function scopeFromKey(key: string, link?: FigureLink): FigureScope {
  const match = /^shard:(\d+)(?:\/(.+))?$/.exec(key);
  if (!match) return { key };
  const shard = Number(match[1]);
  const suffix = match[2];
  if (suffix === undefined) return { key, shard };
  const isLevel = (ROLLUP_LEVELS as readonly string[]).includes(suffix) && link?.kind !== 'table';
  return isLevel ? { key, shard, level: suffix } : { key, shard, table: suffix };
}

function toState(row: StateRow): StoredAlertState {
  const link = parseLink(row.link);
  return {
    rule: row.rule,
    scope: scopeFromKey(row.scope, link),
    state: row.state as AlertStateName,
    severity: row.severity as StoredAlertState['severity'],
    value: row.value === null ? null : Number(row.value),
    threshold: Number(row.threshold),
    since: row.since,
    ...(row.fired_at ? { firedAt: row.fired_at } : {}),
    ...(row.resolved_at ? { resolvedAt: row.resolved_at } : {}),
    message: row.message,
    ...(link ? { link } : {}),
    ...(row.acked_by ? { ackedBy: row.acked_by } : {}),
    ...(row.acked_at ? { ackedAt: row.acked_at } : {}),
  };
}

function toTransition(row: TransitionRow): AlertTransition {
  const link = parseLink(row.link);
  return {
    id: Number(row.id),
    rule: row.rule,
    scope: row.scope,
    from: row.from_state as AlertStateName,
    to: row.to_state as AlertStateName,
    at: row.at.toISOString(),
    value: row.value === null ? null : Number(row.value),
    threshold: Number(row.threshold),
    severity: row.severity as AlertTransition['severity'],
    message: row.message,
    ...(link ? { link } : {}),
  };
}

function toSilence(row: SilenceRow): AlertSilence {
  return {
    id: Number(row.id),
    rule: row.rule,
    ...(row.scope ? { scope: row.scope } : {}),
    until: row.until.toISOString(),
    comment: row.comment,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
  };
}

function toAttempt(row: AttemptRow): DeliveryAttempt {
  return {
    attempt: Number(row.attempt),
    at: row.at.toISOString(),
    ...(row.status !== null ? { status: Number(row.status) } : {}),
    ...(row.error ? { error: row.error } : {}),
    durationMs: Number(row.duration_ms),
  };
}

export class AlertStore {
  constructor(private readonly control: ControlShard) {}

  async states(): Promise<StoredAlertState[]> {
    const rows = await this.control.query<StateRow[]>(`SELECT ${STATE_COLUMNS} FROM strata_alert_states ORDER BY rule, scope`);
    return rows.map(toState);
  }

  /** Inside the evaluation's transaction: every state row locked, so two evaluators are ordered and the second sees the first's writes. */
  async statesForUpdate(session: ControlSession): Promise<StoredAlertState[]> {
    const rows = await session.query<StateRow[]>(`SELECT ${STATE_COLUMNS} FROM strata_alert_states ORDER BY rule, scope FOR UPDATE`);
    return rows.map(toState);
  }

  async state(rule: string, scope: string, session?: ControlSession): Promise<StoredAlertState | undefined> {
    const query: Query = session ? session.query.bind(session) : this.control.query.bind(this.control);
    const rows = await query<StateRow[]>(`SELECT ${STATE_COLUMNS} FROM strata_alert_states WHERE rule = ? AND scope = ?${session ? ' FOR UPDATE' : ''}`, [rule, scope]);
    return rows[0] ? toState(rows[0]) : undefined;
  }

  /** The highest fencing token any evaluator has written transitions with. */
  async highestToken(session: ControlSession): Promise<number> {
    const rows = await session.query<Array<{ token: number | string | null }>>('SELECT MAX(fencing_token) AS token FROM strata_alert_transitions');
    return Number(rows[0]?.token ?? 0);
  }

  /** Writes one evaluation: the changed states, each transition with the lease's token and the deliveries they queue. */
  async writeEvaluation(session: ControlSession, plan: EvaluationPlan, fencingToken: number, now: Date): Promise<AlertTransition[]> {
    for (const state of plan.states) {
      await session.query(
        `INSERT INTO strata_alert_states (${STATE_COLUMNS}, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE state = VALUES(state), severity = VALUES(severity), value = VALUES(value), threshold = VALUES(threshold),
           since = VALUES(since), fired_at = VALUES(fired_at), resolved_at = VALUES(resolved_at), message = VALUES(message), link = VALUES(link),
           acked_by = VALUES(acked_by), acked_at = VALUES(acked_at), updated_at = VALUES(updated_at)`,
        [
          state.rule,
          state.scope.key,
          state.state,
          state.severity,
          state.value,
          state.threshold,
          state.since,
          state.firedAt ?? null,
          state.resolvedAt ?? null,
          state.message.slice(0, MESSAGE_LIMIT),
          state.link ? JSON.stringify(state.link) : null,
          state.ackedBy ?? null,
          state.ackedAt ?? null,
          now,
        ],
        { kind: 'write' },
      );
    }
    const written: AlertTransition[] = [];
    for (const transition of plan.transitions) {
      const link = transition.link ? JSON.stringify(transition.link) : null;
      const result = await session.query<{ insertId: number | string }>(
        `INSERT INTO strata_alert_transitions (rule, scope, from_state, to_state, at, value, threshold, severity, message, link, fencing_token)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [transition.rule, transition.scope, transition.from, transition.to, transition.at, transition.value, transition.threshold, transition.severity, transition.message.slice(0, MESSAGE_LIMIT), link, fencingToken],
        { kind: 'write' },
      );
      const id = Number(result.insertId);
      if (transition.delivery) {
        // UNIQUE(transition_id, target): a transition is queued for the webhook once, whoever retries the write.
        await session.query(
          `INSERT IGNORE INTO strata_alert_deliveries (transition_id, rule, scope, kind, target, state, attempts, created_at, next_attempt_at, error)
           VALUES (?, ?, ?, ?, 'webhook', ?, 0, ?, ?, ?)`,
          [id, transition.rule, transition.scope, transition.delivery.kind, transition.delivery.state, now, transition.delivery.state === 'pending' ? now : null, transition.delivery.error ?? null],
          { kind: 'write' },
        );
      }
      written.push({
        id,
        rule: transition.rule,
        scope: transition.scope,
        from: transition.from,
        to: transition.to,
        at: transition.at.toISOString(),
        value: transition.value,
        threshold: transition.threshold,
        severity: transition.severity,
        message: transition.message.slice(0, MESSAGE_LIMIT),
        ...(transition.link ? { link: transition.link } : {}),
      });
    }
    return written;
  }

  async ack(session: ControlSession, rule: string, scope: string, by: string, at: Date): Promise<void> {
    await session.query('UPDATE strata_alert_states SET acked_by = ?, acked_at = ?, updated_at = ? WHERE rule = ? AND scope = ?', [by.slice(0, 255), at, at, rule, scope], { kind: 'write' });
  }

  /** Silences not ended by hand whose time has not passed. */
  async activeSilences(now: Date, session?: ControlSession): Promise<AlertSilence[]> {
    const sql = `SELECT ${SILENCE_COLUMNS} FROM strata_alert_silences WHERE ended_at IS NULL AND until > ? ORDER BY until DESC, id`;
    const rows = session ? await session.query<SilenceRow[]>(sql, [now]) : await this.control.query<SilenceRow[]>(sql, [now]);
    return rows.map(toSilence);
  }

  async insertSilence(session: ControlSession, silence: Omit<AlertSilence, 'id'>): Promise<AlertSilence> {
    const result = await session.query<{ insertId: number | string }>(
      'INSERT INTO strata_alert_silences (rule, scope, until, comment, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [silence.rule, silence.scope ?? null, new Date(silence.until), silence.comment.slice(0, MESSAGE_LIMIT), silence.createdBy.slice(0, 255), new Date(silence.createdAt)],
      { kind: 'write' },
    );
    return { ...silence, id: Number(result.insertId) };
  }

  /** Ends a silence now; the ended silence, or undefined when no silence has the id. */
  async endSilence(session: ControlSession, id: number, at: Date): Promise<AlertSilence | undefined> {
    const rows = await session.query<Array<SilenceRow & { ended_at: Date | null }>>(`SELECT ${SILENCE_COLUMNS}, ended_at FROM strata_alert_silences WHERE id = ? FOR UPDATE`, [id]);
    const row = rows[0];
    if (!row) return undefined;
    if (row.ended_at === null) await session.query('UPDATE strata_alert_silences SET ended_at = ? WHERE id = ?', [at, id], { kind: 'write' });
    return toSilence(row);
  }

  async history(limit: number, rule?: string): Promise<AlertTransition[]> {
    const rows = await this.control.query<TransitionRow[]>(
      `SELECT ${TRANSITION_COLUMNS} FROM strata_alert_transitions ${rule ? 'WHERE rule = ?' : ''} ORDER BY at DESC, id DESC LIMIT ?`,
      rule ? [rule, limit] : [limit],
    );
    return rows.map(toTransition);
  }

  async deliveries(limit: number): Promise<AlertDelivery[]> {
    const rows = await this.control.query<DeliveryRow[]>(`SELECT ${DELIVERY_COLUMNS} FROM strata_alert_deliveries ORDER BY id DESC LIMIT ?`, [limit]);
    if (rows.length === 0) return [];
    const ids = rows.map((row) => Number(row.id));
    const attempts = await this.control.query<AttemptRow[]>(
      `SELECT delivery_id, attempt, at, status, error, duration_ms FROM strata_alert_delivery_attempts WHERE delivery_id IN (${ids.map(() => '?').join(', ')}) ORDER BY delivery_id, attempt`,
      ids,
    );
    const byDelivery = new Map<number, DeliveryAttempt[]>();
    for (const attempt of attempts) {
      const list = byDelivery.get(Number(attempt.delivery_id)) ?? [];
      list.push(toAttempt(attempt));
      byDelivery.set(Number(attempt.delivery_id), list);
    }
    return rows.map((row) => ({
      id: Number(row.id),
      transitionId: Number(row.transition_id),
      rule: row.rule,
      scope: row.scope,
      kind: row.kind as DeliveryKind,
      target: 'webhook' as const,
      state: row.state as AlertDelivery['state'],
      createdAt: row.created_at.toISOString(),
      ...(row.next_attempt_at ? { nextAttemptAt: row.next_attempt_at.toISOString() } : {}),
      ...(row.delivered_at ? { deliveredAt: row.delivered_at.toISOString() } : {}),
      ...(row.error ? { error: row.error } : {}),
      attempts: byDelivery.get(Number(row.id)) ?? [],
    }));
  }

  async dueDeliveries(now: Date, limit: number): Promise<DueDelivery[]> {
    const rows = await this.control.query<Array<DeliveryRow & { [K in keyof TransitionRow as `t_${K}`]: TransitionRow[K] }>>(
      `SELECT d.id, d.kind, d.attempts, t.id AS t_id, t.rule AS t_rule, t.scope AS t_scope, t.from_state AS t_from_state, t.to_state AS t_to_state, t.at AS t_at,
              t.value AS t_value, t.threshold AS t_threshold, t.severity AS t_severity, t.message AS t_message, t.link AS t_link
         FROM strata_alert_deliveries d JOIN strata_alert_transitions t ON t.id = d.transition_id
        WHERE d.state = 'pending' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.id LIMIT ?`,
      [now, limit],
    );
    return rows.map((row) => ({
      id: Number(row.id),
      kind: row.kind as DeliveryKind,
      attempts: Number(row.attempts),
      transition: toTransition({
        id: row.t_id,
        rule: row.t_rule,
        scope: row.t_scope,
        from_state: row.t_from_state,
        to_state: row.t_to_state,
        at: row.t_at,
        value: row.t_value,
        threshold: row.t_threshold,
        severity: row.t_severity,
        message: row.t_message,
        link: row.t_link,
      }),
    }));
  }

  /**
   * Claims the next attempt of a delivery: true when this process won it. The retry time is set in the same
   * statement, so a process that dies mid-request leaves the delivery to be tried again after the back-off.
   */
  async claim(id: number, attempts: number, retryAt: Date): Promise<boolean> {
    const result = await this.control.query<{ affectedRows: number }>(
      `UPDATE strata_alert_deliveries SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ? AND state = 'pending' AND attempts = ?`,
      [retryAt, id, attempts],
      { kind: 'write' },
    );
    return result.affectedRows === 1;
  }

  async recordAttempt(id: number, attempt: DeliveryAttempt): Promise<void> {
    await this.control.query(
      'INSERT INTO strata_alert_delivery_attempts (delivery_id, attempt, at, status, error, duration_ms) VALUES (?, ?, ?, ?, ?, ?)',
      [id, attempt.attempt, new Date(attempt.at), attempt.status ?? null, attempt.error ?? null, attempt.durationMs],
      { kind: 'write' },
    );
  }

  /**
   * Drops the history past its retention, a bounded batch of each per call (the caller calls again later). A
   * delivery still pending is never dropped, however old; its attempts go before it, so a cut-short pass leaves
   * no attempt without its delivery that a later pass would not remove with it.
   */
  async prune(now: Date): Promise<AlertPruneCount> {
    const before = (ms: number) => new Date(now.getTime() - ms);
    const removed = (result: unknown) => Number((result as { affectedRows?: number }).affectedRows ?? 0);
    const transitions = removed(
      await this.control.query('DELETE FROM strata_alert_transitions WHERE at < ? ORDER BY at LIMIT ?', [before(ALERT_HISTORY_RETENTION_MS.transitions), PRUNE_BATCH_ROWS], { kind: 'write' }),
    );
    const silences = removed(
      await this.control.query('DELETE FROM strata_alert_silences WHERE COALESCE(ended_at, until) < ? LIMIT ?', [before(ALERT_HISTORY_RETENTION_MS.silences), PRUNE_BATCH_ROWS], { kind: 'write' }),
    );
    const oldDeliveries = await this.control.query<Array<{ id: number | string }>>(
      "SELECT id FROM strata_alert_deliveries WHERE state <> 'pending' AND created_at < ? ORDER BY id LIMIT ?",
      [before(ALERT_HISTORY_RETENTION_MS.deliveries), PRUNE_BATCH_ROWS],
    );
    const ids = oldDeliveries.map((row) => Number(row.id));
    if (ids.length > 0) {
      await this.control.query('DELETE FROM strata_alert_delivery_attempts WHERE delivery_id IN (?)', [ids], { kind: 'write' });
      await this.control.query('DELETE FROM strata_alert_deliveries WHERE id IN (?)', [ids], { kind: 'write' });
    }
    return { transitions, silences, deliveries: ids.length };
  }

  async finish(id: number, outcome: { state: 'pending' | 'delivered' | 'failed'; at: Date; error?: string; nextAttemptAt?: Date | null }): Promise<void> {
    await this.control.query(
      `UPDATE strata_alert_deliveries SET state = ?, delivered_at = ?, error = ?, next_attempt_at = ? WHERE id = ?`,
      [outcome.state, outcome.state === 'delivered' ? outcome.at : null, outcome.error ?? null, outcome.nextAttemptAt ?? null, id],
      { kind: 'write' },
    );
  }
}

/** How long the alert history is kept: a quarter for transitions and ended silences, a month for finished deliveries. */
export const ALERT_HISTORY_RETENTION_MS = { transitions: 90 * 86_400_000, silences: 90 * 86_400_000, deliveries: 30 * 86_400_000 } as const;
const PRUNE_BATCH_ROWS = 5000;

export interface AlertPruneCount {
  transitions: number;
  silences: number;
  deliveries: number;
}

export function notFound(what: string): StrataError {
  return new StrataError(ErrorCode.AlertNotFound, what);
}
