import { z } from 'zod';

const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name such as STRATA_SHARD0_PASSWORD');

const identifier = z.string().regex(/^[A-Za-z0-9_]{1,64}$/, 'must be 1-64 letters, digits or underscores');

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
});

export const profileSchema = z
  .strictObject({
    name: z.string().min(1).max(64).optional(),
    shards: z.array(shardSchema).min(1, 'must list at least one shard').max(256),
    redis: redisSchema,
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
export type Profile = z.infer<typeof profileSchema>;

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
    problems: parsed.error.issues.map((issue) => `${formatPath(issue.path) || '(profile)'}: ${issue.message}`),
  };
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
