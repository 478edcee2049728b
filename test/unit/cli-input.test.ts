import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseLeaseTtl } from '../../src/cli/commands/agent';
import { parseShardList } from '../../src/cli/commands/schema';
import { reportPartial, reportCliError } from '../../src/cli/context';
import { parseUtcOption, shortTime, wholeNumberOption } from '../../src/cli/input';
import { buildFullProgram } from '../../src/cli/program';
import { ErrorCode, StrataError } from '../../src/shared/errors';
import type { CliContext } from '../../src/cli/context';
import { describeRedisFailure } from '../../src/main/cluster/connections';
import type { Logger } from '../../src/main/log';

const NOW = new Date('2026-12-02T06:00:00Z');
const refused = (code: number, message: RegExp) => expect.objectContaining({ code, message: expect.stringMatching(message) });

function captureStderr(): { text: () => string } {
  const chunks: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  return { text: () => chunks.join('') };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('times on the command line', () => {
  it('takes back every form of time Strata prints itself', () => {
    const at = (text: string) => parseUtcOption('from', text, ErrorCode.RollupInvalid, NOW).toISOString();
    expect(at('2026-11-30T05:00Z')).toBe('2026-11-30T05:00:00.000Z');
    expect(at(shortTime('2026-11-30T05:00:00.000Z'))).toBe('2026-11-30T05:00:00.000Z');
    expect(at('2026-11-30T05Z')).toBe('2026-11-30T05:00:00.000Z');
    expect(at('2026-11-30')).toBe('2026-11-30T00:00:00.000Z');
    expect(at('2026-11-30T05:06:07.250Z')).toBe('2026-11-30T05:06:07.250Z');
    expect(at('2026-11-30T05:00:00+00:00')).toBe('2026-11-30T05:00:00.000Z');
  });

  it('refuses other offsets, impossible dates and text, with the option named', () => {
    const parse = (text: string) => () => parseUtcOption('to', text, ErrorCode.BackfillInvalid, NOW);
    expect(parse('2026-11-30T05:00+02:00')).toThrow(refused(ErrorCode.BackfillInvalid, /^--to must be in UTC \(end in Z\), got '2026-11-30T05:00\+02:00'$/));
    for (const bad of ['2026-02-30', '2026-11-30T24:00Z', '2026-11-30T05:00', 'yesterday', '']) {
      expect(parse(bad)).toThrow(refused(ErrorCode.BackfillInvalid, /^--to must be an ISO-8601 UTC time such as 2025-03-01T00:00:00Z or 2025-03-01T00:00Z/));
    }
  });

  it('refuses times before 2000 or more than a year ahead, so a typo never plans centuries of windows', () => {
    expect(() => parseUtcOption('from', '1000-01-01', ErrorCode.RollupInvalid, NOW)).toThrow(
      refused(ErrorCode.RollupInvalid, /^--from 1000-01-01 is outside the times Strata works with: from 2000-01-01 up to a year from now \(2027-12-02\)$/),
    );
    expect(() => parseUtcOption('to', '2028-01-01', ErrorCode.RollupInvalid, NOW)).toThrow(refused(ErrorCode.RollupInvalid, /outside the times Strata works with/));
    expect(parseUtcOption('from', '2000-01-01', ErrorCode.RollupInvalid, NOW).toISOString()).toBe('2000-01-01T00:00:00.000Z');
    expect(parseUtcOption('to', '2027-12-01', ErrorCode.RollupInvalid, NOW).toISOString()).toBe('2027-12-01T00:00:00.000Z');
  });
});

describe('option values', () => {
  it('refuses a bad number with a coded one-line error naming the option and the value', () => {
    const port = wholeNumberOption('--port', { min: 1, max: 65535, what: 'a port number' });
    expect(port('8080')).toBe(8080);
    for (const bad of ['0', '65536', 'http', '80.5', '']) expect(() => port(bad)).toThrow(refused(ErrorCode.InvalidInput, /^--port must be a port number from 1 to 65535, got '/));
    expect(() => wholeNumberOption('--shards')('two')).toThrow(refused(ErrorCode.InvalidInput, /^--shards must be a whole number, got 'two'$/));
    expect(parseLeaseTtl('2.5')).toBe(2.5);
    expect(() => parseLeaseTtl('0')).toThrow(refused(ErrorCode.InvalidInput, /^--lease-ttl must be a number of seconds from 1 to 3600, got '0'$/));
  });

  it('reports a bad --shards from the command line in one line, exit 2, without the usage', async () => {
    const stderr = captureStderr();
    const context = { logger: { scope: () => ({ error() {}, warn() {}, info() {}, debug() {} }) } as unknown as Logger } as CliContext;
    const program = await buildFullProgram(context);
    let thrown: unknown;
    try {
      await program.parseAsync(['node', 'strata', 'partitions', 'list', '--shards', '1,x']);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(StrataError);
    expect(reportCliError(thrown, context.logger, false)).toBe(2);
    expect(stderr.text()).toBe("strata: error 1001 (InvalidInput): --shards must be shard indexes separated by commas, such as 0,2; got '1,x'\n");
    expect(() => parseShardList('0,1')).not.toThrow();
  });
});

describe('partial results', () => {
  it('names every shard that could not be read on stderr and sets exit 1', () => {
    const stderr = captureStderr();
    let exitCode = 0;
    const context = { setExitCode: (code: number) => (exitCode = code) };
    const missing = [{ shardName: 'shard1', problem: { code: ErrorCode.ShardUnreachable, message: 'shard1 (127.0.0.1:3307): connection refused; is the server running?' } }];
    expect(reportPartial(context, 'the run history', missing)).toBe(true);
    expect(exitCode).toBe(1);
    expect(stderr.text()).toBe('strata: partial result: the run history lacks shard1: error 3001 (ShardUnreachable): shard1 (127.0.0.1:3307): connection refused; is the server running?\n');
  });

  it('says nothing and leaves the exit code alone when every shard answered', () => {
    const stderr = captureStderr();
    let exitCode = 0;
    expect(reportPartial({ setExitCode: (code: number) => (exitCode = code) }, 'the dry run', [])).toBe(false);
    expect(exitCode).toBe(0);
    expect(stderr.text()).toBe('');
  });
});

describe('Redis failures as the CLI prints them', () => {
  const url = 'redis://10.0.0.9:6379/0';
  const described = (cause: unknown, passwordEnv?: string) => describeRedisFailure(cause, url, passwordEnv, new Error('Connection is closed.'));

  it('names the URL and the cause the connection reported, never the driver\'s retry text', () => {
    expect(described(Object.assign(new Error('connect ECONNREFUSED 10.0.0.9:6379'), { code: 'ECONNREFUSED' }))).toMatchObject({
      code: ErrorCode.RedisUnreachable,
      message: 'Redis redis://10.0.0.9:6379/0: connection refused; is the server running?',
    });
    expect(described(new Error('Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.'))).toMatchObject({
      code: ErrorCode.RedisUnreachable,
      message: 'Redis redis://10.0.0.9:6379/0: no answer (the connection closed before a reply)',
    });
  });

  it('tells a wrong password (naming its variable) from a password the profile does not give', () => {
    expect(described(new Error('WRONGPASS invalid username-password pair or user is disabled.'), 'STRATA_REDIS_PASSWORD')).toMatchObject({
      code: ErrorCode.RedisAuthFailed,
      message: 'Redis redis://10.0.0.9:6379/0: the server refused the login: the password in STRATA_REDIS_PASSWORD is wrong',
    });
    expect(described(new Error('NOAUTH Authentication required.'))).toMatchObject({ code: ErrorCode.RedisAuthFailed, message: expect.stringMatching(/asks for a password and the profile gives none/) });
  });
});
