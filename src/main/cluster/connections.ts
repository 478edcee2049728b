import { Redis } from 'ioredis';
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import mysql, { type Connection, type Pool, type PoolConnection, type PoolOptions } from 'mysql2/promise';
import { ErrorCode, StrataError } from '../../shared/errors';
import { effectiveTls, redactRedisUrl, shardLabel, type Profile, type ShardConfig } from '../../shared/profile';
import { shardForSite } from '../../shared/routing';
import type { SecretResolver } from '../secrets';
import { withDeadline } from '../lifecycle/deadline';
import { mysqlSslOptions, readTlsMaterial, redisTlsError, redisTlsOptions, tlsError } from './tls';

export interface ShardHandle {
  index: number;
  label: string;
  config: ShardConfig;
}

/** What a statement does, which decides how long it may take by default. */
export type StatementKind = 'read' | 'write' | 'ddl';

/** How long a statement of each kind may run, in milliseconds, before its session is closed and it fails. */
export type StatementDeadlines = Record<StatementKind, number>;

/**
 * Generous defaults: a read answers within a minute on any healthy shard; a long write (the hourly INSERT … SELECT,
 * a window's DELETE) and DDL (REORGANIZE PARTITION, a table conversion that copies the table) get far longer.
 */
export const DEFAULT_STATEMENT_DEADLINES: StatementDeadlines = { read: 60_000, write: 15 * 60_000, ddl: 6 * 3_600_000 };

/** How one statement is bounded: by its kind's deadline (default `read`), or by `timeoutMs` when given. */
export interface StatementOptions {
  kind?: StatementKind;
  timeoutMs?: number;
}

export interface ConnectionOptions {
  /** Per-shard pool size; the generator and rollups run a few statements per shard at once. */
  poolSize?: number;
  connectTimeoutMs?: number;
  /** Overrides of DEFAULT_STATEMENT_DEADLINES (tests shorten them). */
  deadlines?: Partial<StatementDeadlines>;
}

/** A KILL QUERY sent for a session that is being closed gets this long: it is a courtesy to a live server. */
const KILL_DEADLINE_MS = 5000;
/** How long dispose() waits for pools to end and sockets to close before it destroys them. */
const CLOSE_WAIT_MS = 1000;
/** How often the shard of a long statement (a write, DDL) is checked for life, at most. */
const LIVENESS_INTERVAL_MS = 10_000;

/** Settles with `work`, or rejects as cancelled once `signal` aborts, after `onAbort` (which disposes of a late result). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined, onAbort: () => void): Promise<T> {
  if (!signal) return work;
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(new StrataError(ErrorCode.Cancelled, 'cancelled'));
    };
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/** A Redis command bounded by `timeoutMs`: past it, RedisUnreachable naming `what` (the redacted URL and the command). */
export function withRedisDeadline<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return withDeadline(work, timeoutMs, () => new StrataError(ErrorCode.RedisUnreachable, `${what}: no answer within ${timeoutMs / 1000} s`));
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** What a session needs from the connections that opened it. */
interface SessionOwner {
  deadline(options?: StatementOptions): number;
  killQuery(index: number, threadId: number): void;
  answers(index: number, timeoutMs: number): Promise<boolean>;
}

/**
 * One pooled session on a shard whose every statement has a deadline. A statement past its deadline, or a session
 * aborted by a cancel, ends at once: the server is asked to KILL QUERY (on another session) and the client socket
 * is destroyed, so neither a busy server nor a dead one (no answer, no FIN) can keep the caller waiting. A session
 * closed that way is never returned to the pool; whatever transaction it had open rolls back on the server.
 */
export class ShardSession {
  private readonly inFlight = new Set<(reason: Error) => void>();
  private closed = false;

  constructor(
    readonly shard: ShardHandle,
    private readonly connection: PoolConnection,
    private readonly owner: SessionOwner,
  ) {}

  get threadId(): number {
    return this.connection.threadId;
  }

  /** Runs one statement and answers its rows (or the result header of a write), errors coded and naming the shard. */
  async query<T = unknown>(sql: string, params: unknown[] = [], options: StatementOptions = {}): Promise<T> {
    if (this.closed) throw new StrataError(ErrorCode.ShardQueryFailed, `${shardAddress(this.shard)}: the session was closed`);
    const timeoutMs = this.owner.deadline(options);
    let stop: ((reason: Error) => void) | undefined;
    const stopped = new Promise<never>((_, reject) => (stop = reject));
    this.inFlight.add(stop!);
    const unwatch = timeoutMs > this.owner.deadline() ? this.watchLiveness(options.kind ?? 'long') : undefined;
    try {
      const [rows] = await withDeadline(Promise.race([this.connection.query(sql, params), stopped]), timeoutMs, () => {
        const expired = new StrataError(
          ErrorCode.ShardTimeout,
          `${shardAddress(this.shard)}: no answer within ${seconds(timeoutMs)} (the ${options.timeoutMs === undefined ? `${options.kind ?? 'read'} ` : ''}deadline); the session was closed`,
        );
        this.abort(expired);
        return expired;
      });
      return rows as T;
    } catch (error) {
      // A fatal driver error leaves the connection unusable; it must not go back to the pool.
      if ((error as { fatal?: boolean }).fatal) this.close();
      throw describeShardError(error, this.shard);
    } finally {
      unwatch?.();
      this.inFlight.delete(stop!);
    }
  }

  /**
   * A write or DDL may rightly run far past the read deadline, but a frozen server cannot answer a check on another
   * connection either: one that gets no answer within the read deadline ends the statement now, not at the end of
   * its own deadline (15 min for a write). A busy server still answers, so a long statement on it runs on.
   */
  private watchLiveness(kind: string): () => void {
    const readDeadline = this.owner.deadline();
    let checking = false;
    const timer = setInterval(() => {
      if (checking) return;
      checking = true;
      void this.owner
        .answers(this.shard.index, readDeadline)
        .then((alive) => {
          if (alive) return;
          this.abort(
            new StrataError(
              ErrorCode.ShardTimeout,
              `${shardAddress(this.shard)}: no answer within ${seconds(readDeadline)} to a check on another connection while a ${kind} statement ran (the server stopped answering); the session was closed`,
            ),
          );
        })
        .finally(() => (checking = false));
    }, Math.min(readDeadline, LIVENESS_INTERVAL_MS));
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Ends what the session is doing now: statements in flight reject with `reason`, the server stops them. */
  abort(reason: Error = new StrataError(ErrorCode.Cancelled, 'cancelled')): void {
    if (this.closed) return;
    if (this.inFlight.size > 0) this.owner.killQuery(this.shard.index, this.connection.threadId);
    this.close();
    for (const stop of this.inFlight) stop(reason);
  }

  /** Back to the pool, unless it was closed. */
  release(): void {
    if (this.closed) return;
    if (this.inFlight.size > 0) this.abort();
    else this.connection.release();
  }

  /** Closes the session for good (its transaction, if any, rolls back); stops a statement in flight. */
  destroy(): void {
    this.abort(new StrataError(ErrorCode.Cancelled, `${shardAddress(this.shard)}: the session was closed`));
  }

  private close(): void {
    this.closed = true;
    this.connection.destroy();
    // destroy() only half-closes the socket, which a dead peer never completes: tear it down now.
    (this.connection.connection as unknown as { stream?: { destroy(): void } }).stream?.destroy();
  }
}

/**
 * Owns every connection to the cluster: one mysql2 pool per shard and one Redis client.
 * Pools open lazily, so a profile with a dead shard still serves the others.
 */
export class ClusterConnections {
  private readonly pools = new Map<number, Promise<Pool>>();
  /** Every open shard socket, so dispose() can close those a frozen server never lets close. */
  private readonly sockets = new Set<Socket>();
  private redisConnection: Redis | undefined;
  private redisTlsFailure: StrataError | undefined;
  /** The last error the Redis connection reported; a failed command's own error rarely says why. */
  private redisConnectFailure: unknown;
  private redisPassword: Promise<string | undefined> | undefined;
  private disposed = false;
  readonly shards: readonly ShardHandle[];

  constructor(
    readonly profile: Profile,
    private readonly secrets: SecretResolver,
    private readonly options: ConnectionOptions = {},
  ) {
    this.shards = profile.shards.map((config, index) => ({ index, label: shardLabel(config, index), config }));
  }

  get shardCount(): number {
    return this.shards.length;
  }

  shard(index: number): ShardHandle {
    const handle = this.shards[index];
    if (!handle) throw new StrataError(ErrorCode.UnknownShard, `shard ${index} does not exist; the profile has ${this.shardCount} shards (0-${this.shardCount - 1})`);
    return handle;
  }

  shardOfSite(siteId: number): ShardHandle {
    return this.shard(shardForSite(siteId, this.shardCount));
  }

  pool(index: number): Promise<Pool> {
    const handle = this.shard(index);
    // A pool opened after dispose() would never be closed and would keep the process alive.
    if (this.disposed) return Promise.reject(new StrataError(ErrorCode.Cancelled, `${handle.label}: the cluster connections are closed`));
    let pool = this.pools.get(index);
    if (!pool) {
      pool = this.createPool(handle);
      pool.catch(() => this.pools.delete(index));
      this.pools.set(index, pool);
    }
    return pool;
  }

  /**
   * Runs one statement on a shard, turning driver errors into coded ones that name the shard. Every statement has
   * a deadline: by default the read deadline (60 s unless ConnectionOptions.deadlines says otherwise); pass
   * `{ kind: 'write' }` for a long write, `{ kind: 'ddl' }` for DDL, or `{ timeoutMs }` for a bound of its own.
   * Past it the statement fails with ShardTimeout (3006), its session is closed and the server told to stop it.
   * Statements that must share a session (a transaction, a named lock) use `session()` instead.
   */
  async query<T = unknown>(index: number, sql: string, params: unknown[] = [], options: StatementOptions = {}): Promise<T> {
    const session = await this.session(index, { timeoutMs: Math.min(this.deadline(), this.deadline(options)) });
    try {
      return await session.query<T>(sql, params, options);
    } finally {
      session.release();
    }
  }

  /**
   * A pooled session on a shard for statements that must run on one connection; each of its statements has a
   * deadline as with `query`. Getting it (connecting, or waiting for a free connection of the pool) is bounded by
   * `timeoutMs` (default the read deadline) and by `signal` (a cancel). The caller must `release()` it, or
   * `destroy()` it when its state is unknown; `abort()` ends a statement in flight at once (a cancel).
   */
  async session(index: number, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<ShardSession> {
    const handle = this.shard(index);
    const timeoutMs = options.timeoutMs ?? this.deadline();
    try {
      const acquiring = this.pool(index).then((pool) => pool.getConnection());
      // A connection that arrives after the deadline or the cancel goes straight back.
      const giveBack = () => void acquiring.then((late) => late.release(), () => {});
      const connection = await withDeadline(untilAborted(acquiring, options.signal, giveBack), timeoutMs, () => {
        giveBack();
        return new StrataError(ErrorCode.ShardTimeout, `${shardAddress(handle)}: no connection within ${seconds(timeoutMs)}`);
      });
      return new ShardSession(handle, connection, this);
    } catch (error) {
      throw describeShardError(error, handle);
    }
  }

  /** The deadline of a statement in milliseconds: its own `timeoutMs`, else its kind's (default `read`). */
  deadline(options: StatementOptions = {}): number {
    if (options.timeoutMs !== undefined) return Math.max(1, options.timeoutMs);
    const kind = options.kind ?? 'read';
    return this.options.deadlines?.[kind] ?? DEFAULT_STATEMENT_DEADLINES[kind];
  }

  /** Asks a shard to stop a session's statement; best effort (the server may be gone), never throws. */
  killQuery(index: number, threadId: number): void {
    this.query(index, 'KILL QUERY ?', [threadId], { timeoutMs: Math.min(KILL_DEADLINE_MS, this.deadline()) }).catch(() => {});
  }

  /**
   * False only when the shard gives no answer within `timeoutMs` on a connection of its own (outside the pool, whose
   * connections may all be busy): a refused or lost connection, or a login error, is not a frozen server, and the
   * statement being watched fails on its own then.
   */
  async answers(index: number, timeoutMs: number): Promise<boolean> {
    const handle = this.shard(index);
    if (this.disposed) return true;
    const connecting = this.connectionOptions(handle).then((options) => mysql.createConnection({ ...options, connectTimeout: timeoutMs }));
    const closeLate = () => void connecting.then((connection) => this.destroyConnection(connection), () => {});
    try {
      const connection = await withDeadline(connecting, timeoutMs, () => new StrataError(ErrorCode.ShardTimeout, 'no connection'));
      this.trackSocket(streamOf(connection));
      try {
        await withDeadline(connection.query('SELECT 1'), timeoutMs, () => new StrataError(ErrorCode.ShardTimeout, 'no answer'));
        await withDeadline(connection.end(), CLOSE_WAIT_MS, () => new Error('did not close')).catch(() => {});
        return true;
      } finally {
        this.destroyConnection(connection);
      }
    } catch (error) {
      closeLate();
      const code = (error as { code?: unknown }).code;
      return !(code === ErrorCode.ShardTimeout || code === 'ETIMEDOUT');
    }
  }

  private destroyConnection(connection: Connection): void {
    connection.destroy();
    streamOf(connection)?.destroy();
  }

  private trackSocket(socket: Socket | undefined): void {
    if (!socket) return;
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /**
   * The one Redis client, its password resolved through the secret resolver once, before the client exists: a
   * missing variable fails here with the resolver's error naming it, not later as NOAUTH from the server.
   */
  async redisClient(): Promise<Redis> {
    if (!this.redisConnection && !this.disposed) {
      const password = await this.resolveRedisPassword();
      if (!this.disposed) this.redisConnection ??= this.createRedis(password);
    }
    return this.redis();
  }

  private resolveRedisPassword(): Promise<string | undefined> {
    if (!this.redisPassword) {
      this.redisPassword = this.secrets.resolve(this.profile.redis, 'redis');
      // A failed resolution is not kept: the next call asks the resolver again.
      this.redisPassword.catch(() => (this.redisPassword = undefined));
    }
    return this.redisPassword;
  }

  /**
   * The Redis client for callers that cannot wait. Only a profile whose Redis has no password can create it here;
   * otherwise it must have been created by redisClient() first.
   */
  redis(): Redis {
    if (this.disposed) throw new StrataError(ErrorCode.Cancelled, 'the cluster connections are closed');
    if (!this.redisConnection) {
      if (this.profile.redis.passwordEnv) {
        throw new StrataError(ErrorCode.SecretUnavailable, 'redis: its password has not been resolved yet; use redisClient()');
      }
      this.redisConnection = this.createRedis(undefined);
    }
    return this.redisConnection;
  }

  /**
   * A Redis connection of the caller's own (same URL, password and TLS as the shared client), for work that changes a
   * connection's state, such as a subscription. It connects at once and is never retried: when it closes it stays
   * closed, and the caller, which ends it, opens another.
   */
  async openRedisConnection(): Promise<Redis> {
    const password = await this.resolveRedisPassword();
    if (this.disposed) throw new StrataError(ErrorCode.RedisUnreachable, `${this.redisLabel()}: the connections are closed`);
    return this.createRedis(password, { retry: false });
  }

  redisLabel(): string {
    return redactRedisUrl(this.profile.redis.url);
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    // A pool whose server froze never finishes ending, and its sockets would keep the process alive: bounded.
    await Promise.allSettled(pools.map(async (pool) => withDeadline((await pool).end(), CLOSE_WAIT_MS, () => new Error('the pool did not end in time'))));
    await this.closeSockets();
    if (this.redisConnection) {
      const client = this.redisConnection;
      this.redisConnection = undefined;
      if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    }
  }

  /** Gives every shard socket a moment to close after QUIT, then destroys those a server never answered. */
  private async closeSockets(): Promise<void> {
    const open = [...this.sockets];
    if (open.length === 0) return;
    const closed = Promise.all(open.map((socket) => new Promise((resolve) => (socket.destroyed ? resolve(undefined) : socket.once('close', resolve)))));
    await withDeadline(closed, CLOSE_WAIT_MS, () => new Error('sockets still open')).catch(() => {});
    for (const socket of open) socket.destroy();
  }

  /** The shared client (`retry`: reconnects, and its errors explain later failures) or a caller's own connection. */
  private createRedis(password: string | undefined, { retry = true }: { retry?: boolean } = {}): Redis {
    const tls = effectiveTls(this.profile.redis, this.profile);
    const client = new Redis(this.profile.redis.url, {
      password,
      ...(tls ? { tls: redisTlsOptions(readTlsMaterial(tls, `Redis ${this.redisLabel()}`)) } : {}),
      lazyConnect: true,
      connectTimeout: this.options.connectTimeoutMs ?? 3000,
      maxRetriesPerRequest: retry ? 1 : 0,
      enableOfflineQueue: true,
      ...(retry ? {} : { autoResubscribe: false }),
      retryStrategy: (attempt) => (!retry || attempt > 3 ? null : Math.min(attempt * 200, 1000)),
    });
    // Errors surface on the commands that fail; an unhandled 'error' event would crash the host.
    if (!retry) {
      // A caller's own connection (a subscription that was killed, say) must not colour why the shared client failed.
      client.on('error', () => {});
      return client;
    }
    client.on('error', (error: unknown) => {
      // A refused handshake only shows here (commands fail with a retry-limit error), so it is kept for describeRedisError.
      if (tls) this.redisTlsFailure = redisTlsError(error, `Redis ${this.redisLabel()}`, this.options.connectTimeoutMs ?? 3000) ?? this.redisTlsFailure;
      this.redisConnectFailure = error;
    });
    client.on('ready', () => {
      this.redisTlsFailure = undefined;
      this.redisConnectFailure = undefined;
    });
    return client;
  }

  /**
   * Why a Redis command failed, as one coded line naming the (redacted) URL: the TLS failure if the handshake was
   * refused, else what the connection last reported (refused, wrong password…). ioredis itself only says
   * "Connection is closed." or "Reached the max retries per request limit" and keeps the cause on its 'error' event.
   */
  describeRedisError(error: unknown): StrataError {
    const tls = tlsError(error, `Redis ${this.redisLabel()}`) ?? this.redisTlsFailure;
    if (tls) return tls;
    if (error instanceof StrataError) return error;
    return describeRedisFailure(this.redisConnectFailure ?? error, this.redisLabel(), this.profile.redis.passwordEnv, error);
  }

  /** The protocol and cipher of the Redis connection ("TLSv1.3 TLS_AES_256_GCM_SHA384"), or undefined when it is plain. */
  redisTlsInUse(): string | undefined {
    const stream = (this.redisConnection as { stream?: unknown } | undefined)?.stream;
    if (!(stream instanceof TLSSocket) || !stream.encrypted) return undefined;
    return `${stream.getProtocol() ?? 'TLS'} ${stream.getCipher().standardName}`;
  }

  private async createPool(handle: ShardHandle): Promise<Pool> {
    const pool = mysql.createPool({ ...(await this.connectionOptions(handle)), connectionLimit: this.options.poolSize ?? 6 });
    // All times are UTC: every session agrees, whatever the server's own time zone.
    pool.pool.on('connection', (connection) => {
      connection.query("SET time_zone = '+00:00'");
      this.trackSocket((connection as unknown as { stream?: Socket }).stream);
    });
    return pool;
  }

  private async connectionOptions(handle: ShardHandle): Promise<PoolOptions> {
    const password = await this.secrets.resolve(handle.config, handle.label);
    const tls = effectiveTls(handle.config, this.profile);
    return {
      ...(tls ? { ssl: mysqlSslOptions(readTlsMaterial(tls, handle.label)) } : {}),
      host: handle.config.host,
      port: handle.config.port,
      user: handle.config.user,
      password,
      database: handle.config.database,
      connectTimeout: this.options.connectTimeoutMs ?? 3000,
      timezone: 'Z',
      dateStrings: false,
      supportBigNumbers: true,
      bigNumberStrings: false,
      enableKeepAlive: true,
      multipleStatements: false,
    };
  }
}

interface DriverError {
  code?: string;
  errno?: number;
  message?: string;
}

/**
 * Maps an ioredis failure to a coded line: `cause` is what the connection reported (its 'error' event), `error`
 * the command's own failure, used when the connection reported nothing.
 */
export function describeRedisFailure(cause: unknown, url: string, passwordEnv: string | undefined, error: unknown = cause): StrataError {
  const where = `Redis ${url}`;
  const driver = (cause ?? {}) as DriverError;
  const message = driver.message ?? String(cause);
  if (/WRONGPASS|invalid password|invalid username-password/i.test(message)) {
    const source = passwordEnv ? `the password in ${passwordEnv}` : 'the password';
    return new StrataError(ErrorCode.RedisAuthFailed, `${where}: the server refused the login: ${source} is wrong`, { cause: error });
  }
  if (/NOAUTH/.test(message)) {
    return new StrataError(ErrorCode.RedisAuthFailed, `${where}: the server asks for a password and the profile gives none (name its variable in redis.passwordEnv)`, { cause: error });
  }
  switch (driver.code) {
    case 'ECONNREFUSED':
      return new StrataError(ErrorCode.RedisUnreachable, `${where}: connection refused; is the server running?`, { cause: error });
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new StrataError(ErrorCode.RedisUnreachable, `${where}: no answer (${driver.code})`, { cause: error });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StrataError(ErrorCode.RedisUnreachable, `${where}: host name not found`, { cause: error });
    case 'ECONNRESET':
    case 'EPIPE':
      return new StrataError(ErrorCode.RedisUnreachable, `${where}: connection lost`, { cause: error });
  }
  if (/max retries per request|Connection is closed|connect ETIMEDOUT/i.test(message)) {
    return new StrataError(ErrorCode.RedisUnreachable, `${where}: no answer (the connection closed before a reply)`, { cause: error });
  }
  return new StrataError(ErrorCode.RedisUnreachable, `${where}: ${message.split('\n')[0]}`, { cause: error });
}

/** The socket under a promise connection (mysql2 does not type it). */
function streamOf(connection: Connection): Socket | undefined {
  return (connection as unknown as { connection?: { stream?: Socket } }).connection?.stream;
}

function shardAddress(handle: ShardHandle): string {
  return `${handle.label} (${handle.config.host}:${handle.config.port})`;
}

/** Maps a mysql2 error to a one-line, coded message that names the shard and the cause. */
export function describeShardError(error: unknown, handle: ShardHandle): StrataError {
  if (error instanceof StrataError) return error;
  const driver = (error ?? {}) as DriverError;
  const where = `${handle.label} (${handle.config.host}:${handle.config.port})`;
  const tls = tlsError(error, where);
  if (tls) return tls;
  switch (driver.code) {
    case 'ECONNREFUSED':
      return new StrataError(ErrorCode.ShardUnreachable, `${where}: connection refused; is the server running?`, { cause: error });
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new StrataError(ErrorCode.ShardUnreachable, `${where}: no answer (${driver.code})`, { cause: error });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new StrataError(ErrorCode.ShardUnreachable, `${where}: host name not found`, { cause: error });
    case 'PROTOCOL_CONNECTION_LOST':
    case 'ECONNRESET':
    case 'EPIPE':
      return new StrataError(ErrorCode.ShardUnreachable, `${where}: connection lost`, { cause: error });
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_DBACCESS_DENIED_ERROR':
      return new StrataError(ErrorCode.ShardAuthFailed, `${where}: access denied for user ${handle.config.user} (wrong password or missing grant)`, { cause: error });
    case 'ER_BAD_DB_ERROR':
      return new StrataError(ErrorCode.ShardQueryFailed, `${where}: database ${handle.config.database} does not exist`, { cause: error });
    default:
      return new StrataError(ErrorCode.ShardQueryFailed, `${where}: ${driver.message ?? String(error)}`, { cause: error });
  }
}
