import { z } from 'zod';

const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name such as STRATA_SHARD0_PASSWORD');

const identifier = z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'must be 1-64 letters, digits or underscores');

/** Absolute, so a profile means the same files whichever folder the CLI, agent or desktop app starts in. */
const pemPath = z.string().regex(/^(\/|[A-Za-z]:[\\/]|\\\\)/, 'must be the absolute path of a PEM file');

/**
 * TLS to one shard or to Redis. Whenever TLS is used the server certificate is verified (against `ca`, else the
 * system's CAs); `require` refuses to connect without TLS. The key is read from its file at connect time and must
 * not be readable by group or others. Files, never PEM text: the profile holds no secrets.
 */
export const tlsSchema = z
  .strictObject({
    ca: pemPath.optional(),
    cert: pemPath.optional(),
    key: pemPath.optional(),
    require: z.boolean().optional(),
    servername: z.string().min(1).max(253).optional(),
  })
  .refine((tls) => Boolean(tls.cert) === Boolean(tls.key), { message: 'give cert and key together (a client certificate needs its key)' });

/**
 * A shard's password is never stored in the profile: it comes from an environment variable
 * or, in the desktop app, from the OS keychain under an id. No source at all means an empty password.
 */
export const shardSchema = z
  .strictObject({
    name: z.string().min(1).max(64).optional(),
    host: z.string().min(1, 'must not be empty'),
    port: z.number().int().min(1).max(65535),
    user: z.string().min(1, 'must not be empty').max(80),
    database: identifier,
    passwordEnv: envVarName.optional(),
    passwordKeychain: z.string().min(1).max(128).optional(),
    /** The Prometheus node exporter of the shard's host (`http://10.0.0.5:9100/metrics`), for its CPU and memory. */
    nodeExporterUrl: z
      .string()
      .refine((url) => URL.canParse(url) && /^https?:$/.test(new URL(url).protocol), 'must be an http(s) URL such as http://10.0.0.5:9100/metrics')
      .optional(),
    tls: tlsSchema
      .refine((tls) => tls.servername === undefined, {
        message: 'servername is not supported for shards: the MySQL driver checks the certificate against host (when host is a name)',
        path: ['servername'],
      })
      .optional(),
  })
  .refine((shard) => !(shard.passwordEnv && shard.passwordKeychain), {
    message: 'give either passwordEnv or passwordKeychain, not both',
  });

export const redisSchema = z.strictObject({
  url: z
    .string()
    .refine((url) => URL.canParse(url), { message: 'must be a URL such as redis://127.0.0.1:6379/0', abort: true })
    .refine((url) => /^rediss?:$/.test(new URL(url).protocol), { message: 'must start with redis:// or rediss://', abort: true })
    .refine((url) => new URL(url).password === '', 'must not contain a password; use passwordEnv'),
  passwordEnv: envVarName.optional(),
  tls: tlsSchema.optional(),
});

/** Where backup sets go and which dump client makes them; both absolute paths. */
export const backupProfileSchema = z.strictObject({
  /** A folder (a mounted share, for example); default: the `backups` folder of Strata's data directory. */
  dest: z.string().regex(/^(\/|[A-Za-z]:[\\/]|\\\\)/, 'must be the absolute path of a folder').optional(),
  /** The mysqldump or mariadb-dump binary; default: the first of mariadb-dump, mysqldump on PATH. */
  client: z.string().regex(/^(\/|[A-Za-z]:[\\/]|\\\\)/, 'must be the absolute path of mysqldump or mariadb-dump').optional(),
  /** Where `backup verify` loads its scratch databases instead of each part's own shard; `database` is only used to connect. */
  verifyServer: shardSchema.optional(),
});

/** What the probe cycle watches besides the shards: the application's ingestion queue and the cycle's pace. */
export const monitorProfileSchema = z.strictObject({
  /** Seconds between probe cycles; default 30. */
  probeIntervalSeconds: z.number().int().min(5).max(3600).optional(),
  /**
   * The Redis keys of the queue the application's workers read: Laravel's names for a queue called `analytics`
   * under its default prefix, a list of waiting jobs plus the delayed and reserved sorted sets.
   */
  queueKeys: z.array(z.string().min(1).max(256)).min(1).max(16).optional(),
});

/**
 * Where alert messages go. The webhook URL is a secret: the profile names where it comes from (an environment
 * variable or a keychain id), never the URL itself.
 */
export const alertsProfileSchema = z
  .strictObject({
    webhookUrlEnv: envVarName.optional(),
    webhookUrlKeychain: z.string().min(1).max(128).optional(),
  })
  .refine((alerts) => !(alerts.webhookUrlEnv && alerts.webhookUrlKeychain), { message: 'give either webhookUrlEnv or webhookUrlKeychain, not both' });

/**
 * The application's own Redis cache, which Strata reads and invalidates but never writes: the prefix Laravel puts
 * before every cache key, and the shapes of its two chart keys (`{siteId}`, `{period}`, `{startDate}`, `{endDate}`;
 * dates as YYYY-MM-DD).
 */
export const cacheProfileSchema = z.strictObject({
  appKeyPrefix: z.string().max(256).optional(),
  statsKeyPattern: z
    .string()
    .min(1)
    .max(256)
    .refine((pattern) => pattern.includes('{siteId}'), 'must contain {siteId}')
    .optional(),
  chartKeyPattern: z
    .string()
    .min(1)
    .max(256)
    .refine((pattern) => ['{siteId}', '{period}', '{startDate}', '{endDate}'].every((part) => pattern.includes(part)), 'must contain {siteId}, {period}, {startDate} and {endDate}')
    .optional(),
});

export const DEFAULT_APP_CACHE = {
  appKeyPrefix: 'laravel_database_laravel_cache_:',
  statsKeyPattern: 'site_{siteId}_stats_24h',
  chartKeyPattern: 'chart_{siteId}_{period}_{startDate}_{endDate}',
} as const;

export const DEFAULT_QUEUE_KEYS = ['laravel_database_queues:analytics', 'laravel_database_queues:analytics:delayed', 'laravel_database_queues:analytics:reserved'] as const;

export const profileSchema = z
  .strictObject({
    name: z.string().min(1).max(64).optional(),
    shards: z.array(shardSchema).min(1, 'must list at least one shard').max(256),
    redis: redisSchema,
    /** Every shard and Redis must use TLS with a verified certificate, as if each said `tls.require`. */
    requireTls: z.boolean().optional(),
    backup: backupProfileSchema.optional(),
    monitor: monitorProfileSchema.optional(),
    alerts: alertsProfileSchema.optional(),
    cache: cacheProfileSchema.optional(),
  })
  .superRefine((profile, ctx) => {
    const seen = new Map<string, number>();
    profile.shards.forEach((shard, index) => {
      const key = `${shard.host}:${shard.port}/${shard.database}`;
      const first = seen.get(key);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['shards', index], message: `is the same server and database as shards[${first}]` });
      }
      seen.set(key, index);
    });
  });

export type ShardConfig = z.infer<typeof shardSchema>;
export type RedisConfig = z.infer<typeof redisSchema>;
export type TlsConfig = z.infer<typeof tlsSchema>;
export type Profile = z.infer<typeof profileSchema>;
export type MonitorProfile = z.infer<typeof monitorProfileSchema>;
export type AlertsProfile = z.infer<typeof alertsProfileSchema>;
export type CacheProfile = z.infer<typeof cacheProfileSchema>;

/** Field names that would mean a secret was written into the profile in plain text. */
const PLAIN_SECRET_KEYS = new Set(['password', 'pass', 'pwd', 'secret']);

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : text ? `${text}.${String(part)}` : String(part)), '');
}

function findPlainSecret(value: unknown, path: string): string | undefined {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const hit = findPlainSecret(item, `${path}[${index}]`);
      if (hit) return hit;
    }
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key;
      if (PLAIN_SECRET_KEYS.has(key.toLowerCase())) return childPath;
      const hit = findPlainSecret(item, childPath);
      if (hit) return hit;
    }
  }
  return undefined;
}

/** What each required field is, for `shards: required: …` instead of zod's "expected array, received undefined". */
const REQUIRED_FIELDS: Record<string, string> = {
  shards: 'a profile lists at least one shard, such as { "host": "10.0.0.5", "port": 3306, "user": "strata", "database": "analytics" }',
  redis: 'a profile names the cluster\'s Redis, such as { "url": "redis://127.0.0.1:6379/0" }',
  host: "the shard's host name or IP address",
  port: "the shard's MySQL port, such as 3306",
  user: 'the MySQL user Strata logs in as',
  database: 'the database that holds the analytics tables',
  url: 'the Redis URL, such as redis://127.0.0.1:6379/0',
};

const KIND_WORDS: Record<string, string> = { array: 'a list', object: 'an object', string: 'text in quotes', number: 'a number', boolean: 'true or false', int: 'a whole number' };

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `text ('${value.length > 40 ? `${value.slice(0, 40)}…` : value}')`;
  return `${typeof value === 'number' ? 'the number' : typeof value} ${String(value)}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) value = value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  return value;
}

/** One issue in words: a missing field says what it is, a wrong type names what was found; others keep zod's text. */
function describeIssue(issue: z.core.$ZodIssue, root: unknown): string {
  const where = formatPath(issue.path) || '(profile)';
  if (issue.code === 'invalid_type') {
    const value = valueAt(root, issue.path);
    const field = String(issue.path.at(-1) ?? '');
    if (issue.path.length === 0) return `${where}: must be a JSON object with "shards" and "redis", got ${kindOf(value)}`;
    if (value === undefined) return `${where}: required: ${REQUIRED_FIELDS[field] ?? `must be ${KIND_WORDS[issue.expected] ?? issue.expected}`}`;
    return `${where}: must be ${KIND_WORDS[issue.expected] ?? issue.expected}, got ${kindOf(value)}`;
  }
  return `${where}: ${issue.message}`;
}

/**
 * Where JSON.parse gave up, as line and column (1-based), and the character there; Node's message does not always
 * say. The longest prefix that still reads as unfinished JSON ends just before the error.
 */
export function locateJsonError(text: string): { line: number; column: number; found: string | undefined } {
  // V8 words the end of input several ways: "Unexpected end", or an error "at position N" with N the length.
  const readsAsUnfinished = (end: number) => {
    try {
      JSON.parse(text.slice(0, end));
      return true;
    } catch (error) {
      const message = (error as Error).message;
      const position = /at position (\d+)/.exec(message)?.[1];
      return /Unexpected end of JSON input/.test(message) || (position !== undefined && Number(position) >= end);
    }
  };
  let good = 0;
  let bad = text.length;
  if (readsAsUnfinished(bad)) good = bad;
  while (bad - good > 1) {
    const middle = Math.floor((good + bad) / 2);
    if (readsAsUnfinished(middle)) good = middle;
    else bad = middle;
  }
  const offset = good === text.length ? text.length : bad - 1;
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1, found: text[offset] };
}

/** Why a profile's text is not JSON, with the position, in one line. */
export function describeJsonError(text: string): string {
  if (text.trim() === '') return 'is empty: a profile is a JSON object with "shards" and "redis"';
  const { line, column, found } = locateJsonError(text);
  if (found === undefined) return `is not valid JSON: it ends at line ${line}, column ${column} before the JSON is complete (a closing bracket, brace or quote is missing)`;
  return `is not valid JSON: unexpected ${JSON.stringify(found)} at line ${line}, column ${column}`;
}

export type ProfileParse = { ok: true; profile: Profile } | { ok: false; problems: string[] };

/** Validates a parsed JSON value as a profile; each problem names the field and the reason. */
export function parseProfile(value: unknown): ProfileParse {
  const secretPath = findPlainSecret(value, '');
  if (secretPath) {
    return { ok: false, problems: [`${secretPath}: a password must not be stored in the profile; name an environment variable in passwordEnv instead`] };
  }
  const parsed = profileSchema.safeParse(value);
  if (parsed.success) return { ok: true, profile: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => describeIssue(issue, value)),
  };
}

/**
 * How one shard or Redis connects: TLS when its entry has a `tls` block, when its Redis URL is rediss://, or when
 * TLS is required (by the entry or the profile's `requireTls`). Undefined means a plain connection.
 */
export function effectiveTls(entry: { tls?: TlsConfig; url?: string }, profile: Pick<Profile, 'requireTls'>): (TlsConfig & { require: boolean }) | undefined {
  const required = entry.tls?.require === true || profile.requireTls === true;
  const rediss = entry.url !== undefined && /^rediss:/i.test(entry.url);
  if (!entry.tls && !rediss && !required) return undefined;
  return { ...entry.tls, require: required };
}

export function shardLabel(shard: ShardConfig, index: number): string {
  return shard.name ?? `shard${index}`;
}

/** A Redis URL fit for display and logs: credentials are removed. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  } catch {
    return 'redis://(invalid)';
  }
}
