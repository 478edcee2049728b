import { Option, type Command } from 'commander';
import { ALERT_SEVERITIES, ruleNameSchema, type AlertDelivery, type AlertList, type AlertRule, type AlertRuleSetRequest, type AlertState, type AlertTransition, type CheckReport } from '../../shared/alerts';
import { ErrorCode, StrataError } from '../../shared/errors';
import { formatMetricValue } from '../../shared/monitor';
import { findBuiltInRule } from '../../main/alerts/rules';
import { jsonOption, profileOption, type CliContext, type CommandRegistrar } from '../context';
import { parseDurationOption, parseUtcOption, wholeNumberOption } from '../input';

const when = (iso: string | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z') : '');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  return [header, ...rows].map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : (cell ?? '').padEnd(widths[column]!))).join('  ').trimEnd()).join('\n');
}

/** "4.3 % (threshold 0.1 %)" in the unit of the rule's metric; a rule this build does not know keeps plain numbers. */
function valueAgainstThreshold(alert: AlertState): string {
  const metric = findBuiltInRule(alert.rule)?.metric;
  const format = (value: number | null) => (value === null ? '?' : metric ? formatMetricValue(metric, value) : String(value));
  return `${format(alert.value)} (threshold ${format(alert.threshold)})`;
}

export function formatAlertList(list: AlertList): string {
  if (list.alerts.length === 0) return `nothing firing or pending${list.evaluatedAt ? ` (rules evaluated ${when(list.evaluatedAt)})` : ' (no evaluation recorded yet: is an agent or console holding the lease?)'}`;
  const rows = list.alerts.map((alert) => [
    alert.state.toUpperCase(),
    alert.severity,
    alert.rule,
    alert.scope.key,
    valueAgainstThreshold(alert),
    when(alert.since),
    [alert.silence ? `silenced until ${when(alert.silence.until)} by ${alert.silence.createdBy}` : '', alert.ackedBy ? `acked by ${alert.ackedBy}` : '', alert.message].filter(Boolean).join('; '),
  ]);
  const summary = `${list.firing} firing, ${list.pending} pending${list.evaluatedAt ? `; evaluated ${when(list.evaluatedAt)}` : ''}`;
  return `${table(['STATE', 'SEVERITY', 'RULE', 'SCOPE', 'VALUE', 'SINCE', 'DETAIL'], rows)}\n${summary}`;
}

export function formatRules(rules: readonly AlertRule[]): string {
  const rows = rules.map((rule) => [
    rule.name,
    rule.enabled ? 'on' : 'off',
    rule.severity,
    `${rule.metric}${rule.level ? ` (${rule.level})` : ''} ${rule.comparator} ${formatMetricValue(rule.metric, rule.threshold)}`,
    rule.forSeconds === 0 ? 'at once' : `${rule.forSeconds} s`,
    `${rule.customized ? '(changed) ' : ''}${rule.description}`,
  ]);
  return table(['RULE', 'ON', 'SEVERITY', 'CONDITION', 'FOR', 'DESCRIPTION'], rows);
}

export function formatHistory(transitions: readonly AlertTransition[]): string {
  if (transitions.length === 0) return 'no alert transitions yet';
  return table(
    ['WHEN (UTC)', 'RULE', 'SCOPE', 'CHANGE', 'VALUE', 'MESSAGE'],
    transitions.map((entry) => [when(entry.at), entry.rule, entry.scope, `${entry.from} → ${entry.to}`, entry.value === null ? '' : String(entry.value), entry.message]),
  );
}

export function formatDeliveries(deliveries: readonly AlertDelivery[]): string {
  if (deliveries.length === 0) return 'no deliveries yet';
  return table(
    ['ID', 'CREATED (UTC)', 'RULE', 'SCOPE', 'KIND', 'STATE', 'ATTEMPTS', 'LAST ANSWER'],
    deliveries.map((delivery) => {
      const last = delivery.attempts.at(-1);
      const answer = last ? (last.status !== undefined ? `HTTP ${last.status}` : (last.error ?? '')) : (delivery.error ?? '');
      const next = delivery.state === 'pending' && delivery.nextAttemptAt ? `; next ${when(delivery.nextAttemptAt)}` : '';
      return [String(delivery.id), when(delivery.createdAt), delivery.rule, delivery.scope, delivery.kind, delivery.state, String(delivery.attempts.length), `${answer}${next}`];
    }),
  );
}

export function formatCheck(report: CheckReport): string {
  const lines = [report.summary];
  for (const alert of report.firing) lines.push(`${alert.severity.toUpperCase()} ${alert.rule} ${alert.scope.key}: ${alert.message}`);
  return lines.join('\n');
}

function ruleArgument(text: string): string {
  const checked = ruleNameSchema.safeParse(text);
  if (!checked.success) throw new StrataError(ErrorCode.AlertRuleInvalid, `RULE must be a rule name such as shard-unreachable (see strata alerts rules), got '${text}'`);
  return checked.data;
}

interface SetOptions {
  threshold?: string;
  for?: string;
  severity?: string;
  enable?: boolean;
  disable?: boolean;
  reset?: boolean;
}

/** The rule change the options ask for, checked before anything connects. */
export function parseRuleSet(rule: string, options: SetOptions): AlertRuleSetRequest {
  const request: AlertRuleSetRequest = { rule: ruleArgument(rule) };
  if (options.enable && options.disable) throw new StrataError(ErrorCode.AlertRuleInvalid, 'give --enable or --disable, not both');
  if (options.threshold !== undefined) {
    const threshold = Number(options.threshold);
    if (options.threshold.trim() === '' || !Number.isFinite(threshold)) throw new StrataError(ErrorCode.AlertRuleInvalid, `--threshold must be a number, got '${options.threshold}'`);
    request.threshold = threshold;
  }
  if (options.for !== undefined) request.forSeconds = parseDurationOption('--for', options.for, ErrorCode.AlertRuleInvalid);
  if (options.severity !== undefined) {
    if (!(ALERT_SEVERITIES as readonly string[]).includes(options.severity)) throw new StrataError(ErrorCode.AlertRuleInvalid, `--severity must be warning or critical, got '${options.severity}'`);
    request.severity = options.severity as AlertRuleSetRequest['severity'];
  }
  if (options.enable) request.enabled = true;
  if (options.disable) request.enabled = false;
  if (options.reset) {
    if (Object.keys(request).length > 1) throw new StrataError(ErrorCode.AlertRuleInvalid, '--reset goes back to the built-in rule: give it alone');
    request.reset = true;
  }
  if (Object.keys(request).length === 1) throw new StrataError(ErrorCode.AlertRuleInvalid, 'say what to change: --threshold, --for, --severity, --enable, --disable or --reset');
  return request;
}

interface SilenceOptions {
  until?: string;
  for?: string;
  comment?: string;
  scope?: string;
}

export function parseSilence(rule: string, options: SilenceOptions, now = new Date()) {
  const name = ruleArgument(rule);
  if (Boolean(options.until) === Boolean(options.for)) throw new StrataError(ErrorCode.AlertRuleInvalid, 'give how long: --until TIME or --for DURATION (one of them)');
  if (!options.comment?.trim()) throw new StrataError(ErrorCode.AlertRuleInvalid, '--comment is required: say why it is silenced');
  const until = options.until
    ? parseUtcOption('until', options.until, ErrorCode.AlertRuleInvalid, now)
    : new Date(now.getTime() + parseDurationOption('--for', options.for!, ErrorCode.AlertRuleInvalid, 30 * 86_400) * 1000);
  if (until <= now) throw new StrataError(ErrorCode.AlertRuleInvalid, `--until ${options.until} is in the past`);
  return { rule: name, scope: options.scope, until: until.toISOString(), comment: options.comment.trim() };
}

const withProfile = (command: Command, json = true) => {
  command.addOption(profileOption());
  if (json) command.addOption(jsonOption());
  return command;
};

export const registerAlertsCommand: CommandRegistrar = (program, context: CliContext) => {
  const alerts = program.command('alerts').description('alert states, rules, silences, acknowledgements, history and webhook deliveries');

  withProfile(alerts.command('list').description('firing and pending alerts (and resolved ones of the last day with --all), with value, threshold and since when'))
    .addOption(new Option('--all', 'include alerts resolved in the last 24 h'))
    .action(async (options: { all?: boolean; profile?: string; json?: boolean }) => {
      const list = await context.withServices(options.profile, (services) => services.alerts.list({ includeResolved: Boolean(options.all) }));
      const shown = options.all ? list : { ...list, alerts: list.alerts.filter((alert: AlertState) => alert.state === 'firing' || alert.state === 'pending') };
      context.print(options.json, shown, () => formatAlertList(shown));
    });

  withProfile(alerts.command('history').description('every state change of every alert, newest first'))
    .addOption(new Option('--rule <name>', 'only one rule'))
    .addOption(new Option('--limit <n>', 'how many (1-1000)').argParser(wholeNumberOption('--limit', { min: 1, max: 1000 })).default(100))
    .action(async (options: { rule?: string; limit: number; profile?: string; json?: boolean }) => {
      const rule = options.rule === undefined ? undefined : ruleArgument(options.rule);
      const transitions = await context.withServices(options.profile, (services) => services.alerts.history({ limit: options.limit, rule }));
      context.print(options.json, transitions, () => formatHistory(transitions));
    });

  withProfile(alerts.command('rules').description('every rule: condition, for-duration, severity, on or off'))
    .action(async (options: { profile?: string; json?: boolean }) => {
      const rules = await context.withServices(options.profile, (services) => services.alerts.rules());
      context.print(options.json, rules, () => formatRules(rules));
    });

  withProfile(alerts.command('set').argument('<rule>', 'the rule name, such as aggregation-time').description('change a rule (stored in the cluster, audited): threshold, for-duration, severity, on/off'))
    .addOption(new Option('--threshold <n>', 'the value the figure must cross, in the unit of its metric (ms, s, ratio 0-1, count)'))
    .addOption(new Option('--for <duration>', 'how long it must be crossed before the alert fires: 0, 90s, 5m, 2h'))
    .addOption(new Option('--severity <level>', 'warning or critical'))
    .addOption(new Option('--enable', 'turn the rule on'))
    .addOption(new Option('--disable', 'turn the rule off'))
    .addOption(new Option('--reset', 'back to the built-in rule'))
    .action(async (rule: string, options: SetOptions & { profile?: string; json?: boolean }) => {
      const request = parseRuleSet(rule, options);
      const updated = await context.withServices(options.profile, (services) => services.alerts.setRule(request));
      context.print(options.json, updated, () => formatRules([updated]));
    });

  withProfile(alerts.command('silence').argument('<rule>', 'the rule name').description('silence a rule (or one scope of it) until a time, with a comment; no messages are sent meanwhile'))
    .addOption(new Option('--until <time>', 'ISO-8601 UTC end of the silence'))
    .addOption(new Option('--for <duration>', 'length of the silence: 30m, 4h, 2d'))
    .addOption(new Option('--comment <text>', 'why (required)'))
    .addOption(new Option('--scope <key>', 'only this scope, such as shard:1 or shard:0/hourly'))
    .action(async (rule: string, options: SilenceOptions & { profile?: string; json?: boolean }) => {
      const request = parseSilence(rule, options);
      const silence = await context.withServices(options.profile, (services) => services.alerts.silence(request));
      context.print(options.json, silence, () => `silence ${silence.id}: ${silence.rule}${silence.scope ? ` ${silence.scope}` : ''} until ${when(silence.until)} by ${silence.createdBy} (${silence.comment})`);
    });

  withProfile(alerts.command('unsilence').argument('<id>', 'the silence id').description('end a silence now'))
    .action(async (id: string, options: { profile?: string; json?: boolean }) => {
      const silenceId = wholeNumberOption('ID', { min: 1 }, ErrorCode.AlertRuleInvalid)(id);
      const silence = await context.withServices(options.profile, (services) => services.alerts.unsilence({ id: silenceId }));
      context.print(options.json, silence, () => `silence ${silence.id} of ${silence.rule} ended`);
    });

  withProfile(alerts.command('ack').argument('<rule>', 'the rule name').description('acknowledge a firing or pending alert: someone is on it'))
    .requiredOption('--scope <key>', 'the alert scope, such as shard:1 (see strata alerts list)')
    .addOption(new Option('--comment <text>', 'what is being done'))
    .action(async (rule: string, options: { scope: string; comment?: string; profile?: string; json?: boolean }) => {
      const state = await context.withServices(options.profile, (services) => services.alerts.ack({ rule: ruleArgument(rule), scope: options.scope, comment: options.comment }));
      context.print(options.json, state, () => `${state.rule} ${state.scope.key} (${state.state}) acknowledged by ${state.ackedBy}`);
    });

  withProfile(alerts.command('deliveries').description('webhook messages and every attempt to send them: delivered, pending retry, failed, skipped'))
    .addOption(new Option('--limit <n>', 'how many (1-1000)').argParser(wholeNumberOption('--limit', { min: 1, max: 1000 })).default(50))
    .action(async (options: { limit: number; profile?: string; json?: boolean }) => {
      const deliveries = await context.withServices(options.profile, (services) => services.alerts.deliveries({ limit: options.limit }));
      context.print(options.json, deliveries, () => formatDeliveries(deliveries));
    });

  withProfile(alerts.command('test-webhook').description("send a test message to the profile's alert webhook and report the answer; exits 1 when it was not delivered"))
    .action(async (options: { profile?: string; json?: boolean }) => {
      const report = await context.withServices(options.profile, (services) => services.alerts.testWebhook());
      context.print(options.json, report, () =>
        !report.configured
          ? 'no webhook configured: set alerts.webhookUrlEnv (or alerts.webhookUrlKeychain in the desktop app) in the profile'
          : report.delivered
            ? `delivered to the webhook from ${report.source}: HTTP ${report.status} in ${report.durationMs} ms`
            : `not delivered to the webhook from ${report.source}: ${report.status !== undefined ? `HTTP ${report.status}` : report.error} after ${report.durationMs} ms`,
      );
      if (!report.delivered) context.setExitCode(1);
    });
};

/** Evaluations older than this mean no agent or console holds the lease: the states are not current. */
const STALE_EVALUATION_MS = 5 * 60_000;

export function staleEvaluation(evaluatedAt: string | undefined, now: Date): string | undefined {
  if (!evaluatedAt) return 'the alert rules have never been evaluated: run `strata agent` (or keep a console open) so the lease holder evaluates them';
  const age = now.getTime() - Date.parse(evaluatedAt);
  if (age <= STALE_EVALUATION_MS) return undefined;
  return `the alert rules were last evaluated ${Math.round(age / 60_000)} min ago (${when(evaluatedAt)}): is an agent or console holding the lease?`;
}

/** Nagios's UNKNOWN: the alert states could not be read. */
export const CHECK_UNKNOWN = 3;

export const registerCheckCommand: CommandRegistrar = (program, context) => {
  program
    .command('check')
    .description('for cron and Nagios-style checkers: exit 0 when nothing fires, 1 when a warning fires, 2 when a critical alert fires, 3 when the states cannot be read')
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: { profile?: string; json?: boolean }) => {
      let report: CheckReport;
      let evaluatedAt: string | undefined;
      try {
        [report, evaluatedAt] = await context.withServices(options.profile, async (services) => [
          await services.alerts.check(),
          (await services.alerts.list({ includeResolved: false })).evaluatedAt,
        ]);
      } catch (error) {
        // Checkers read 3 as UNKNOWN: a cluster that cannot be asked is neither healthy nor a known critical.
        const message = error instanceof Error ? error.message : String(error);
        const code = error instanceof StrataError ? error.code : ErrorCode.Internal;
        context.print(options.json, { exitCode: CHECK_UNKNOWN, code, message }, () => `UNKNOWN: error ${code}: ${message}`);
        context.setExitCode(CHECK_UNKNOWN);
        return;
      }
      const stale = staleEvaluation(evaluatedAt, new Date());
      if (stale) process.stderr.write(`strata check: ${stale}\n`);
      context.print(options.json, report, () => formatCheck(report));
      // Nobody evaluating the rules is itself worth a warning: "nothing firing" would be a guess.
      context.setExitCode(stale ? Math.max(report.exitCode, 1) : report.exitCode);
    });
};
