import { describe, expect, it } from 'vitest';
import { describeTlsFailure, mysqlSslOptions, redisTlsOptions } from '../../src/main/cluster/tls';
import { planSandbox, type SandboxState } from '../../src/main/sandbox/planner';
import { effectiveTls, parseProfile, type ShardConfig } from '../../src/shared/profile';

const shard: ShardConfig = { host: '10.0.0.5', port: 3306, user: 'strata', database: 'analytics' };
const redis = { url: 'redis://10.0.0.9:6379/0' };
const tls = { ca: '/etc/strata/ca.pem', cert: '/etc/strata/client.pem', key: '/etc/strata/client.key' };

function problemsOf(value: unknown): string[] {
  const parsed = parseProfile(value);
  return parsed.ok ? [] : parsed.problems;
}

describe('TLS in the cluster profile', () => {
  it('accepts a CA, client certificate and key per shard and for Redis, and a cluster-wide requireTls', () => {
    expect(problemsOf({ shards: [{ ...shard, tls: { ...tls, require: true } }], redis: { ...redis, tls: { ca: tls.ca, servername: 'redis.internal' } }, requireTls: true })).toEqual([]);
  });

  it('refuses relative paths, a certificate without its key, a shard servername and unknown fields, naming each', () => {
    expect(problemsOf({ shards: [{ ...shard, tls: { ca: 'ca.pem' } }], redis })).toEqual(['shards[0].tls.ca: must be the absolute path of a PEM file']);
    expect(problemsOf({ shards: [shard], redis: { ...redis, tls: { cert: tls.cert } } })).toEqual(['redis.tls: give cert and key together (a client certificate needs its key)']);
    expect(problemsOf({ shards: [{ ...shard, tls: { servername: 'db.internal' } }], redis })).toEqual([
      'shards[0].tls.servername: servername is not supported for shards: the MySQL driver checks the certificate against host (when host is a name)',
    ]);
    expect(problemsOf({ shards: [{ ...shard, tls: { verify: false } }], redis })[0]).toMatch(/^shards\[0\]\.tls: /);
  });

  it('uses TLS for an entry with a tls block, a rediss:// URL or a required TLS, and plain otherwise', () => {
    expect(effectiveTls(shard, {})).toBeUndefined();
    expect(effectiveTls({ ...shard, tls: { ca: tls.ca } }, {})).toEqual({ ca: tls.ca, require: false });
    expect(effectiveTls({ url: 'rediss://10.0.0.9:6380/0' }, {})).toEqual({ require: false });
    expect(effectiveTls(shard, { requireTls: true })).toEqual({ require: true });
    expect(effectiveTls({ ...shard, tls: { ca: tls.ca, require: true } }, { requireTls: false })).toEqual({ ca: tls.ca, require: true });
  });

  it('always verifies the server certificate: mysql2 against the CA and host name, ioredis against the CA and servername', () => {
    const ca = Buffer.from('-----BEGIN CERTIFICATE-----');
    expect(mysqlSslOptions({ ca, require: false })).toEqual({ ca, cert: undefined, key: undefined, rejectUnauthorized: true, verifyIdentity: true });
    expect(redisTlsOptions({ ca, servername: 'localhost', require: true })).toEqual({ ca, cert: undefined, key: undefined, rejectUnauthorized: true, servername: 'localhost' });
    expect(redisTlsOptions({ require: true })).not.toHaveProperty('servername');
  });
});

describe('TLS failures in words', () => {
  it('says which part of the handshake failed', () => {
    expect(describeTlsFailure({ code: 'HANDSHAKE_NO_SSL_SUPPORT' })).toMatch(/^the server does not offer TLS/);
    // mysql2 keeps only Node's message under its own code.
    expect(describeTlsFailure({ code: 'HANDSHAKE_SSL_ERROR', message: 'self-signed certificate in certificate chain' })).toBe(
      'its certificate is not signed by a trusted CA (SELF_SIGNED_CERT_IN_CHAIN); check tls.ca',
    );
    expect(describeTlsFailure({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', message: 'unable to verify the first certificate' })).toMatch(/not signed by a trusted CA/);
    expect(describeTlsFailure({ code: 'HANDSHAKE_SSL_ERROR', message: 'certificate has expired' })).toBe('its certificate has expired');
    expect(describeTlsFailure({ code: 'ERR_TLS_CERT_ALTNAME_INVALID', message: "Hostname/IP does not match certificate's altnames" })).toMatch(/not for this host name/);
    expect(describeTlsFailure({ errno: 3159, message: 'Connections using insecure transport are prohibited while --require_secure_transport=ON.' })).toMatch(/accepts only TLS/);
    expect(describeTlsFailure({ code: 'ERR_SSL_WRONG_VERSION_NUMBER', message: 'wrong version number' })).toMatch(/^the TLS handshake failed/);
  });

  it('leaves other errors to the usual descriptions', () => {
    expect(describeTlsFailure({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' })).toBeUndefined();
    expect(describeTlsFailure({ code: 'ER_ACCESS_DENIED_ERROR', errno: 1045, message: 'Access denied' })).toBeUndefined();
    expect(describeTlsFailure(undefined)).toBeUndefined();
  });
});

describe('a sandbox started with TLS', () => {
  const state: SandboxState = {
    version: 1,
    kind: 'mariadb',
    database: 'analytics',
    shardPorts: [41000],
    redisPort: 41001,
    tls: { ca: '/t/ca.pem', cert: '/t/server.pem', key: '/t/server.key', clientCert: '/t/client.pem', clientKey: '/t/client.key' },
  };
  const plan = planSandbox('/tmp/sb', state, { kind: 'mariadb', server: 'mariadbd', installDb: 'mariadb-install-db', redis: 'redis-server' }, false);

  it('starts mariadbd with its certificates and secure transport required', () => {
    expect(plan.shards[0]?.serverCommand.args).toEqual(
      expect.arrayContaining(['--ssl-ca=/t/ca.pem', '--ssl-cert=/t/server.pem', '--ssl-key=/t/server.key', '--require-secure-transport=ON']),
    );
  });

  it('starts Redis on its TLS port only', () => {
    const args = plan.redis.command.args;
    expect(args.slice(0, 4)).toEqual(['--port', '0', '--tls-port', '41001']);
    expect(args).toEqual(expect.arrayContaining(['--tls-cert-file', '/t/server.pem', '--tls-key-file', '/t/server.key', '--tls-ca-cert-file', '/t/ca.pem']));
  });

  it('writes a valid profile that requires TLS with the CA and client certificate', () => {
    expect(parseProfile(plan.profile).ok).toBe(true);
    const expected = { ca: '/t/ca.pem', cert: '/t/client.pem', key: '/t/client.key', require: true };
    expect(plan.profile.shards[0]?.tls).toEqual(expected);
    expect(plan.profile.redis).toEqual({ url: 'rediss://127.0.0.1:41001/0', tls: expected });
  });
});
