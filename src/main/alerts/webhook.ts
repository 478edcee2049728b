import type { AlertTransition } from '../../shared/alerts';
import type { AlertsProfile } from '../../shared/profile';
import type { SecretResolver, SecretSource } from '../secrets';
import type { DeliveryKind } from './planner';

/** A Slack-compatible incoming-webhook body: `text` for notifications and clients without blocks. */
export interface WebhookMessage {
  text: string;
  blocks?: Array<{ type: 'section'; text: { type: 'mrkdwn'; text: string } } | { type: 'context'; elements: Array<{ type: 'mrkdwn'; text: string }> }>;
}

export interface WebhookAnswer {
  /** The HTTP status; absent when the webhook did not answer. */
  status?: number;
  ok: boolean;
  error?: string;
  durationMs: number;
}

export function webhookConfigured(profile: AlertsProfile | undefined): boolean {
  return Boolean(profile?.webhookUrlEnv || profile?.webhookUrlKeychain);
}

export function webhookSecretSource(profile: AlertsProfile | undefined): SecretSource {
  return { passwordEnv: profile?.webhookUrlEnv, passwordKeychain: profile?.webhookUrlKeychain };
}

/** Where the URL comes from, for reports: never the URL. */
export function webhookSourceText(profile: AlertsProfile | undefined): string | undefined {
  if (profile?.webhookUrlEnv) return `env ${profile.webhookUrlEnv}`;
  if (profile?.webhookUrlKeychain) return `keychain ${profile.webhookUrlKeychain}`;
  return undefined;
}

/** The webhook URL from the secret store; undefined when the profile names none. */
export async function resolveWebhookUrl(secrets: SecretResolver, profile: AlertsProfile | undefined): Promise<string | undefined> {
  if (!webhookConfigured(profile)) return undefined;
  return secrets.resolve(webhookSecretSource(profile), 'the alert webhook');
}

/**
 * POSTs the message; never throws. Errors name what happened (a status, a refused connection, the deadline) but
 * never the URL: an incoming-webhook URL is its own credential.
 */
export async function postWebhook(url: string, message: WebhookMessage, options: { timeoutMs: number; signal?: AbortSignal; monotonicNow?: () => number }): Promise<WebhookAnswer> {
  const clock = options.monotonicNow ?? (() => performance.now());
  const started = clock();
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
  const elapsed = () => Math.max(0, Math.round(clock() - started));
  try {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(message), signal, redirect: 'error' });
    // Read the answer so the connection is freed; Slack says why it refused in the body ("invalid_payload").
    const body = (await response.text().catch(() => '')).trim().slice(0, 200);
    if (response.ok) return { status: response.status, ok: true, durationMs: elapsed() };
    return { status: response.status, ok: false, error: `the webhook answered HTTP ${response.status}${body ? `: ${redact(body, url)}` : ''}`, durationMs: elapsed() };
  } catch (error) {
    if (deadline.aborted) return { ok: false, error: `the webhook did not answer within ${options.timeoutMs} ms`, durationMs: elapsed() };
    if (options.signal?.aborted) return { ok: false, error: 'cancelled: Strata is shutting down', durationMs: elapsed() };
    return { ok: false, error: `the webhook could not be reached: ${redact(describeFetchError(error), url)}`, durationMs: elapsed() };
  }
}

function describeFetchError(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

function redact(text: string, url: string): string {
  let redacted = text.split(url).join('<webhook url>');
  try {
    const { pathname } = new URL(url);
    if (pathname.length > 1) redacted = redacted.split(pathname).join('<webhook path>');
  } catch {
    // An unparsable URL has no path to hide beyond the whole text.
  }
  return redacted;
}

const SEVERITY_MARK = { critical: ':red_circle:', warning: ':large_orange_circle:' } as const;

/** The message for one firing or resolved transition, as a person reads it in Slack. */
export function alertWebhookMessage(transition: AlertTransition, kind: DeliveryKind): WebhookMessage {
  const head =
    kind === 'firing'
      ? `${SEVERITY_MARK[transition.severity]} FIRING ${transition.severity} ${transition.rule} (${transition.scope})`
      : `:large_green_circle: RESOLVED ${transition.rule} (${transition.scope})`;
  const text = `${head}: ${transition.message}`;
  const context = [`at ${transition.at.slice(0, 19).replace('T', ' ')} UTC`, ...(transition.link ? [transition.link.text] : [])].join(' · ');
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${head}*\n${transition.message}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: context }] },
    ],
  };
}

export function testWebhookMessage(at: Date, by: string): WebhookMessage {
  const text = `Strata test message from ${by} at ${at.toISOString().slice(0, 19).replace('T', ' ')} UTC: alerts will arrive here.`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}
