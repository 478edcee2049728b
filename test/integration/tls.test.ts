import { execFile } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterStatus } from '../../src/shared/contract';
import { ErrorCode } from '../../src/shared/errors';
import type { Profile } from '../../src/shared/profile';
import { silentLogger } from '../../src/main/log';
import type { SandboxTls } from '../../src/main/sandbox/planner';
import { EnvSecretResolver } from '../../src/main/secrets';
import { createServices } from '../../src/main/services';
import { runCli } from '../support/cli';
import { startTestCluster, type TestCluster } from '../support/cluster';

const run = promisify(execFile);

async function openssl(dir: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir });
}

/** A CA, a server certificate for 127.0.0.1 and localhost signed by it, a client certificate, and an unrelated CA. */
async function makeCertificates(dir: string): Promise<SandboxTls & { otherCa: string }> {
  await mkdir(dir, { recursive: true });
  const days = ['-days', '2'];
  await openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', ...days, '-subj', '/CN=Strata test CA']);
  await openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other-ca.key', '-out', 'other-ca.pem', ...days, '-subj', '/CN=Another CA']);
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const [name, subject, extensions] of [
    ['server', '/CN=localhost', ['-extfile', 'server.ext']],
    ['client', '/CN=strata', []],
  ] as const) {
    await openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
    await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, ...days, ...extensions]);
    await chmod(join(dir, `${name}.key`), 0o600);
  }
  return {
    ca: join(dir, 'ca.pem'),
    cert: join(dir, 'server.pem'),
    key: join(dir, 'server.key'),
    clientCert: join(dir, 'client.pem'),
    clientKey: join(dir, 'client.key'),
    otherCa: join(dir, 'other-ca.pem'),
  };
}

/** The status Strata reports through its own connections for a profile (not necessarily the cluster's own). */
async function statusWith(profile: Profile): Promise<ClusterStatus> {
  const services = createServices({ profile, secrets: new EnvSecretResolver(), logger: silentLogger });
  try {
    return await services.status.get();
  } finally {
    await services.dispose();
  }
}

describe('TLS to shards and Redis (real mariadbd and redis-server started with TLS only)', () => {
  let secure: TestCluster;
  let plain: TestCluster;
  let files: SandboxTls & { otherCa: string };

  beforeAll(async () => {
    plain = await startTestCluster({ shards: 1, schema: false });
    files = await makeCertificates(join(plain.dir, 'certificates'));
    secure = await startTestCluster({ shards: 1, tls: files });
  }, 180_000);

  afterAll(async () => {
    await secure?.down();
    await plain?.down();
  });

  it('writes a profile that requires TLS with the CA and client certificate, and a rediss:// URL', () => {
    const expected = { ca: files.ca, cert: files.clientCert, key: files.clientKey, require: true };
    expect(secure.profile.shards[0]?.tls).toEqual(expected);
    expect(secure.profile.redis.tls).toEqual(expected);
    expect(secure.profile.redis.url).toMatch(/^rediss:\/\/127\.0\.0\.1:\d+\/0$/);
  });

  it('reports the shard and Redis healthy over TLS, with the protocol and cipher of its own sessions', async () => {
    const status = await statusWith(secure.profile);
    expect(status.shards[0]).toMatchObject({ reachable: true, schemaVersion: expect.any(Number) });
    // From SHOW SESSION STATUS: the server's own view of the session Strata opened.
    expect(status.shards[0]?.tls).toMatch(/^TLSv1\.[23] \S+/);
    expect(status.redis).toMatchObject({ reachable: true, serverVersion: expect.any(String) });
    expect(status.redis.tls).toMatch(/^TLSv1\.[23] \S+/);
    expect(status.healthy).toBe(true);
  });

  it('strata status prints the TLS protocol and cipher of the shard and of Redis in its table', async () => {
    const run = await runCli(['status', '--profile', secure.profilePath]);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines.find((line) => /^ {2}shard0\s+up /.test(line))).toMatch(/ ms {2}TLSv1\.[23] \S+ {2}schema v\d+$/);
    expect(lines.find((line) => /^ {2}redis\s+up /.test(line))).toMatch(/ ms {2}TLSv1\.[23] \S+ {2}.* used$/);
  });

  it('is refused by the shard without TLS, so the TLS seen above is not optional', async () => {
    const { tls: _tls, ...shard } = secure.profile.shards[0]!;
    const status = await statusWith({ ...secure.profile, shards: [shard] });
    expect(status.shards[0]?.reachable).toBe(false);
    // MariaDB answers a plain login under require_secure_transport as access denied (MySQL 8 says insecure transport).
    expect([ErrorCode.ShardAuthFailed, ErrorCode.TlsFailed]).toContain(status.shards[0]?.problem?.code);
  });

  it('refuses a shard and Redis whose certificate is not signed by the CA the profile names, saying which', async () => {
    const wrongCa = { ...secure.profile.shards[0]!.tls!, ca: files.otherCa };
    const status = await statusWith({
      ...secure.profile,
      shards: [{ ...secure.profile.shards[0]!, tls: wrongCa }],
      redis: { ...secure.profile.redis, tls: wrongCa },
    });
    expect(status.healthy).toBe(false);
    expect(status.shards[0]?.problem).toEqual({
      code: ErrorCode.TlsFailed,
      message: expect.stringMatching(/^shard0 \(127\.0\.0\.1:\d+\): its certificate is not signed by a trusted CA \(\w+\); check tls\.ca$/),
    });
    expect(status.redis.reachable).toBe(false);
    expect(status.redis.problem?.code).toBe(ErrorCode.TlsFailed);
    expect(status.redis.problem?.message).toMatch(/^Redis redis[s]?:\/\/127\.0\.0\.1:\d+\/0: its certificate is not signed by a trusted CA/);
  });

  it('with require=true, refuses a shard and Redis that do not offer TLS instead of talking to them in plain text', async () => {
    const required = { ca: files.ca, require: true };
    const status = await statusWith({
      ...plain.profile,
      shards: [{ ...plain.profile.shards[0]!, tls: required }],
      redis: { ...plain.profile.redis, tls: required },
    });
    expect(status.shards[0]?.problem).toEqual({
      code: ErrorCode.TlsFailed,
      message: expect.stringMatching(/^shard0 \(127\.0\.0\.1:\d+\): the server does not offer TLS, and the profile asks for TLS; refusing to connect without it$/),
    });
    expect(status.redis.reachable).toBe(false);
    expect(status.redis.problem?.code).toBe(ErrorCode.TlsFailed);
    expect(status.redis.problem?.message).toMatch(/^Redis redis:\/\/127\.0\.0\.1:\d+\/0: the TLS handshake did not finish within 3 s; is TLS enabled on this port/);
  });

  it('the cluster-wide requireTls switch does the same for entries without a tls block', async () => {
    const status = await statusWith({ ...plain.profile, requireTls: true });
    expect(status.shards[0]?.problem?.code).toBe(ErrorCode.TlsFailed);
    expect(status.redis.problem?.code).toBe(ErrorCode.TlsFailed);
  });

  it('refuses a client key that group or others can read, naming the file and the fix, before connecting', async () => {
    const exposedKey = join(plain.dir, 'certificates', 'exposed.key');
    await writeFile(exposedKey, '-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n');
    await chmod(exposedKey, 0o644);
    const tls = { ...secure.profile.shards[0]!.tls!, key: exposedKey };
    const status = await statusWith({ ...secure.profile, shards: [{ ...secure.profile.shards[0]!, tls }], redis: { ...secure.profile.redis, tls } });
    const expected = `its TLS key ${exposedKey} is readable by group or others (mode 0644); make it private with chmod 600 ${exposedKey}`;
    expect(status.shards[0]?.problem).toEqual({ code: ErrorCode.TlsFileRefused, message: `shard0: ${expected}` });
    expect(status.redis.problem?.code).toBe(ErrorCode.TlsFileRefused);
    expect(status.redis.problem?.message).toContain(expected);
  });
});
