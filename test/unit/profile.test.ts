import { describe, expect, it } from 'vitest';
import { describeJsonError, parseProfile, redactRedisUrl } from '../../src/shared/profile';
import { shardForSite } from '../../src/shared/routing';

const validShard = { host: '10.0.0.5', port: 3306, user: 'strata', database: 'analytics', passwordEnv: 'SHARD_PW' };
const validProfile = { shards: [validShard, { ...validShard, host: '10.0.0.6' }], redis: { url: 'redis://10.0.0.9:6379/0' } };

function problemsOf(value: unknown): string[] {
  const parsed = parseProfile(value);
  return parsed.ok ? [] : parsed.problems;
}

describe('cluster profile', () => {
  it('accepts a profile whose passwords come from environment variables', () => {
    const parsed = parseProfile(validProfile);
    expect(parsed.ok).toBe(true);
  });

  it('names the field and the reason for each problem', () => {
    const problems = problemsOf({ shards: [{ ...validShard, port: 70000, database: 'bad-name' }], redis: { url: 'not a url' } });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^shards\[0\]\.port: /),
        expect.stringMatching(/^shards\[0\]\.database: must be 1-64 letters/),
        expect.stringMatching(/^redis\.url: must be a URL/),
      ]),
    );
  });

  it('refuses a password written into the profile, wherever it is', () => {
    expect(problemsOf({ ...validProfile, shards: [{ ...validShard, password: 'hunter2' }] })[0]).toMatch(
      /^shards\[0\]\.password: a password must not be stored in the profile/,
    );
    expect(problemsOf({ ...validProfile, redis: { url: 'redis://:hunter2@10.0.0.9:6379' } })[0]).toMatch(/^redis\.url: must not contain a password/);
  });

  it('refuses an empty shard list, unknown fields and two entries for the same database', () => {
    expect(problemsOf({ ...validProfile, shards: [] })[0]).toMatch(/^shards: must list at least one shard/);
    expect(problemsOf({ ...validProfile, extra: 1 })[0]).toMatch(/Unrecognized key/);
    expect(problemsOf({ ...validProfile, shards: [validShard, validShard] })[0]).toMatch(/^shards\[1\]: is the same server and database as shards\[0\]/);
  });

  it('refuses a shard with both a keychain id and an environment variable', () => {
    expect(problemsOf({ ...validProfile, shards: [{ ...validShard, passwordKeychain: 'prod-0' }] })[0]).toMatch(/either passwordEnv or passwordKeychain/);
  });

  it('says what a missing field is, instead of zod\'s "expected array, received undefined"', () => {
    expect(problemsOf({})).toEqual([
      'shards: required: a profile lists at least one shard, such as { "host": "10.0.0.5", "port": 3306, "user": "strata", "database": "analytics" }',
      'redis: required: a profile names the cluster\'s Redis, such as { "url": "redis://127.0.0.1:6379/0" }',
    ]);
    expect(problemsOf({ shards: [{ port: 3306 }], redis: {} })).toEqual([
      "shards[0].host: required: the shard's host name or IP address",
      'shards[0].user: required: the MySQL user Strata logs in as',
      'shards[0].database: required: the database that holds the analytics tables',
      'redis.url: required: the Redis URL, such as redis://127.0.0.1:6379/0',
    ]);
  });

  it('names what it found where another type belongs', () => {
    expect(problemsOf({ shards: 'shard0', redis: { url: 'redis://h:1' } })).toEqual(["shards: must be a list, got text ('shard0')"]);
    expect(problemsOf({ ...validProfile, shards: [{ ...validShard, port: 'three' }] })).toEqual(["shards[0].port: must be a number, got text ('three')"]);
    expect(problemsOf([])).toEqual(['(profile): must be a JSON object with "shards" and "redis", got a list']);
  });

  it('gives the line and column of the first character that is not JSON', () => {
    expect(describeJsonError('{ shards: ')).toBe('is not valid JSON: unexpected "s" at line 1, column 3');
    expect(describeJsonError('{\n  "shards": [\n    {"host": "x",}\n  ]\n}')).toBe('is not valid JSON: unexpected "}" at line 3, column 18');
    expect(describeJsonError('{"name": "prod"}}')).toBe('is not valid JSON: unexpected "}" at line 1, column 17');
    expect(describeJsonError('{"shards": [')).toBe(
      'is not valid JSON: it ends at line 1, column 13 before the JSON is complete (a closing bracket, brace or quote is missing)',
    );
    expect(describeJsonError('  \n')).toBe('is empty: a profile is a JSON object with "shards" and "redis"');
  });

  it('strips credentials from a Redis URL before it is shown', () => {
    expect(redactRedisUrl('redis://user:secret@h:1/0')).toBe('redis://h:1/0');
  });
});

describe('site routing', () => {
  it('sends a site to site_id modulo the shard count', () => {
    expect([0, 1, 2, 3, 7].map((site) => shardForSite(site, 3))).toEqual([0, 1, 2, 0, 1]);
  });

  it('refuses impossible site ids and shard counts', () => {
    expect(() => shardForSite(-1, 2)).toThrow(/non-negative/);
    expect(() => shardForSite(1.5, 2)).toThrow(/non-negative/);
    expect(() => shardForSite(1, 0)).toThrow(/at least 1/);
  });
});
