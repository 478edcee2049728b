import { Option } from 'commander';
import { AUDIT_KINDS, auditQuerySchema, compactAuditDetail, type AuditEntryRecord, type AuditQuery } from '../../shared/audit';
import { ErrorCode, StrataError } from '../../shared/errors';
import { parseUtcOption } from '../input';
import { jsonOption, profileOption, type CommandRegistrar } from '../context';

interface AuditOptions {
  since?: string;
  kind?: string;
  limit: string;
  profile?: string;
  json?: boolean;
}

const MAX_LIMIT = 1000;
/** A detail can be 64 KiB; the table shows its start and --json the whole of it. */
const DETAIL_COLUMN_CHARS = 160;

/** Checks the options before anything connects, so bad input never reaches the cluster. */
export function parseAuditOptions(options: Pick<AuditOptions, 'since' | 'kind' | 'limit'>): AuditQuery {
  const limit = /^\d+$/.test(options.limit) ? Number(options.limit) : Number.NaN;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new StrataError(ErrorCode.AuditQueryInvalid, `--limit must be a whole number from 1 to ${MAX_LIMIT}, got '${options.limit}'`);
  }
  const since = options.since === undefined ? undefined : parseUtcOption('since', options.since, ErrorCode.AuditQueryInvalid).toISOString();
  const checked = auditQuerySchema.safeParse({ since, kind: options.kind, limit });
  // --since and --limit are checked above, so what the schema refuses is the kind.
  if (!checked.success) throw new StrataError(ErrorCode.AuditQueryInvalid, `--kind: ${checked.error.issues[0]?.message}, got '${options.kind}'`);
  return checked.data;
}

function shorten(text: string, chars: number): string {
  return text.length <= chars ? text : `${text.slice(0, chars - 1)}…`;
}

export function formatAuditEntries(entries: readonly AuditEntryRecord[], query: AuditQuery): string {
  if (entries.length === 0) {
    const filters = [query.kind && `of kind ${query.kind}`, query.since && `since ${query.since}`].filter(Boolean).join(' ');
    return filters ? `no audit entries ${filters}` : 'no audit entries yet';
  }
  const header = ['WHEN (UTC)', 'WHO', 'ACTION', 'TARGET', 'DETAIL'];
  const rows = entries.map((entry) => [
    entry.at.replace('T', ' ').replace(/\.\d{3}Z$/, ''),
    `${entry.actor}@${entry.host}`,
    entry.action,
    entry.target ?? '',
    shorten(compactAuditDetail(entry.detail), DETAIL_COLUMN_CHARS),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const lines = [header, ...rows].map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ').trimEnd());
  if (entries.length === query.limit) lines.push(`(the newest ${query.limit}; --limit or --since to see others)`);
  return lines.join('\n');
}

export const registerAuditCommand: CommandRegistrar = (program, context) => {
  program
    .command('audit')
    .description('the audit log of the cluster, newest first: who changed what, from which host, when, with the details')
    .addOption(new Option('--since <time>', 'only entries at or after this ISO-8601 UTC time, such as 2025-03-01 or 2025-03-01T12:00:00Z'))
    .addOption(new Option('--kind <kind>', `only one kind of change: a domain (${AUDIT_KINDS.join(', ')}) or a full action such as retention.set`))
    .addOption(new Option('--limit <n>', `how many (1-${MAX_LIMIT})`).default('50'))
    .addOption(profileOption())
    .addOption(jsonOption())
    .action(async (options: AuditOptions) => {
      const query = parseAuditOptions(options);
      const entries = await context.withServices(options.profile, (services) => services.state.audit.list(query));
      context.print(options.json, entries, () => formatAuditEntries(entries, query));
    });
};
