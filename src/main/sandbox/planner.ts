import { join } from 'node:path';
import type { Profile } from '../../shared/profile';

/** Which server family provides the shards: they differ in how a data directory is initialised. */
export type ServerKind = 'mariadb' | 'mysql';

export interface ServerBinaries {
  kind: ServerKind;
  server: string;
  /** mariadb-install-db for MariaDB; MySQL initialises with `mysqld --initialize-insecure`. */
  installDb?: string;
  redis: string;
  /** Debian's prometheus-node-exporter, when installed: the sandbox then reports its host's CPU and memory. */
  nodeExporter?: string;
}

/**
 * PEM files (absolute paths) for a sandbox whose servers accept only TLS: the CA that signed them, the servers'
 * certificate and key, and optionally a client certificate the profile presents. Tests make them with openssl.
 */
export interface SandboxTls {
  ca: string;
  cert: string;
  key: string;
  clientCert?: string;
  clientKey?: string;
}

/** What `sandbox up` records in DIR/sandbox.json so a later `up` restarts the same data on the same ports. */
export interface SandboxState {
  version: 1;
  kind: ServerKind;
  database: string;
  shardPorts: number[];
  redisPort: number;
  tls?: SandboxTls;
  /** Loopback port of the sandbox's node exporter (one for the host all its shards run on). */
  nodeExporterPort?: number;
}

export interface ShardProcessPlan {
  index: number;
  port: number;
  dataDir: string;
  pidFile: string;
  errorLog: string;
  initCommand: { file: string; args: string[] };
  serverCommand: { file: string; args: string[] };
}

export interface RedisProcessPlan {
  port: number;
  dir: string;
  pidFile: string;
  logFile: string;
  command: { file: string; args: string[] };
}

export interface NodeExporterProcessPlan {
  port: number;
  url: string;
  pidFile: string;
  command: { file: string; args: string[] };
}

export interface SandboxPlan {
  dir: string;
  shards: ShardProcessPlan[];
  redis: RedisProcessPlan;
  /** Present when the binary is installed and the state has a port for it. */
  nodeExporter?: NodeExporterProcessPlan;
  profile: Profile;
  profilePath: string;
  statePath: string;
  /** Set when the servers accept only TLS; the harness's own connections then use it too. */
  tls?: SandboxTls;
}

export const SANDBOX_DATABASE = 'analytics';

/** Builds every path and command line of a sandbox; pure, so it is tested without starting anything. */
export function planSandbox(dir: string, state: SandboxState, binaries: ServerBinaries, runAsRoot: boolean): SandboxPlan {
  const userArgs = runAsRoot ? ['--user=root'] : [];
  const shards = state.shardPorts.map((port, index): ShardProcessPlan => {
    const shardDir = join(dir, `shard${index}`);
    const dataDir = join(shardDir, 'data');
    const pidFile = join(shardDir, 'mysqld.pid');
    const errorLog = join(shardDir, 'error.log');
    const initCommand =
      binaries.kind === 'mariadb'
        ? {
            file: binaries.installDb ?? 'mariadb-install-db',
            args: ['--no-defaults', ...userArgs, `--datadir=${dataDir}`, `--tmpdir=${shardDir}`, '--auth-root-authentication-method=normal', '--skip-test-db'],
          }
        : { file: binaries.server, args: ['--no-defaults', ...userArgs, '--initialize-insecure', `--datadir=${dataDir}`, `--tmpdir=${shardDir}`] };
    // require-secure-transport makes a plain connection fail, so a test proves the TLS it sees is not optional.
    const tlsArgs = state.tls
      ? [`--ssl-ca=${state.tls.ca}`, `--ssl-cert=${state.tls.cert}`, `--ssl-key=${state.tls.key}`, '--require-secure-transport=ON']
      : [];
    const familyArgs =
      binaries.kind === 'mariadb'
        ? ['--innodb-log-file-size=256M']
        : ['--mysqlx=OFF', '--innodb-redo-log-capacity=536870912', '--disable-log-bin'];
    return {
      index,
      port,
      dataDir,
      pidFile,
      errorLog,
      initCommand,
      serverCommand: {
        file: binaries.server,
        args: [
          '--no-defaults',
          ...userArgs,
          `--datadir=${dataDir}`,
          `--port=${port}`,
          '--bind-address=127.0.0.1',
          `--socket=${join(shardDir, 'mysqld.sock')}`,
          `--pid-file=${pidFile}`,
          `--log-error=${errorLog}`,
          `--tmpdir=${shardDir}`,
          '--skip-name-resolve',
          '--skip-log-bin',
          '--character-set-server=utf8mb4',
          '--collation-server=utf8mb4_unicode_ci',
          '--default-time-zone=+00:00',
          '--innodb-buffer-pool-size=512M',
          // A sandbox trades crash durability for insert speed; real shards keep their own settings.
          '--innodb-flush-log-at-trx-commit=2',
          '--max-connections=300',
          '--local-infile=0',
          ...tlsArgs,
          ...familyArgs,
        ],
      },
    };
  });
  const redisDir = join(dir, 'redis');
  const redisPid = join(redisDir, 'redis.pid');
  const redisLog = join(redisDir, 'redis.log');
  const clientTls = state.tls
    ? { ca: state.tls.ca, require: true, ...(state.tls.clientCert && state.tls.clientKey ? { cert: state.tls.clientCert, key: state.tls.clientKey } : {}) }
    : undefined;
  const profile: Profile = {
    name: `sandbox ${dir}`,
    shards: shards.map((shard) => ({
      name: `shard${shard.index}`,
      host: '127.0.0.1',
      port: shard.port,
      user: 'root',
      database: state.database,
      ...(clientTls ? { tls: clientTls } : {}),
    })),
    redis: clientTls ? { url: `rediss://127.0.0.1:${state.redisPort}/0`, tls: clientTls } : { url: `redis://127.0.0.1:${state.redisPort}/0` },
  };
  // With TLS, Redis listens only on its TLS port; client certificates are checked when presented.
  const redisPortArgs = state.tls
    ? ['--port', '0', '--tls-port', String(state.redisPort), '--tls-cert-file', state.tls.cert, '--tls-key-file', state.tls.key, '--tls-ca-cert-file', state.tls.ca, '--tls-auth-clients', 'optional']
    : ['--port', String(state.redisPort)];
  return {
    dir,
    shards,
    redis: {
      port: state.redisPort,
      dir: redisDir,
      pidFile: redisPid,
      logFile: redisLog,
      command: {
        file: binaries.redis,
        args: [...redisPortArgs, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', redisDir, '--pidfile', redisPid, '--logfile', redisLog],
      },
    },
    profile,
    ...(binaries.nodeExporter && state.nodeExporterPort ? { nodeExporter: planNodeExporter(dir, binaries.nodeExporter, state.nodeExporterPort) } : {}),
    profilePath: join(dir, 'profile.json'),
    statePath: join(dir, 'sandbox.json'),
    ...(state.tls ? { tls: state.tls } : {}),
  };
}

/** Only the CPU and memory collectors: that is all the monitor reads, and the others cost a scrape's time. */
function planNodeExporter(dir: string, binary: string, port: number): NodeExporterProcessPlan {
  return {
    port,
    url: `http://127.0.0.1:${port}/metrics`,
    pidFile: join(dir, 'node-exporter.pid'),
    command: { file: binary, args: [`--web.listen-address=127.0.0.1:${port}`, '--collector.disable-defaults', '--collector.cpu', '--collector.meminfo'] },
  };
}

/** The profile with every shard's host metrics read from the sandbox's node exporter (all shards share one host). */
export function withNodeExporter(profile: Profile, url: string): Profile {
  return { ...profile, shards: profile.shards.map((shard) => ({ ...shard, nodeExporterUrl: url })) };
}
