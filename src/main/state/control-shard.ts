import { StrataError } from '../../shared/errors';
import { describeShardError, type ClusterConnections, type ShardHandle, type ShardSession, type StatementOptions } from '../cluster/connections';

/**
 * The shard that holds the cluster's shared state: schedules, settings, backfills and the audit log. Shard 0, so
 * every console and agent of one profile agrees on it without asking anyone.
 */
export const CONTROL_SHARD = 0;

/**
 * A session on the control shard (inside one transaction, or holding a named lock): a ShardSession's `query`, which
 * answers the rows (or a write's result header) directly and bounds each statement by its deadline.
 */
export type ControlSession = Pick<ShardSession, 'query'>;

/** How a control-shard session is opened: `signal` ends waiting for it (a cancel). */
export interface ControlSessionOptions {
  signal?: AbortSignal;
}

/** Reads and transactions on the control shard, with errors that name it. */
export class ControlShard {
  constructor(private readonly connections: ClusterConnections) {}

  get index(): number {
    return CONTROL_SHARD;
  }

  get handle(): ShardHandle {
    return this.connections.shard(CONTROL_SHARD);
  }

  /** One statement on the control shard, bounded by its deadline (the read deadline unless `options` say otherwise). */
  query<T = unknown>(sql: string, params: unknown[] = [], options: StatementOptions = {}): Promise<T> {
    return this.connections.query<T>(CONTROL_SHARD, sql, params, options);
  }

  /**
   * Runs `work` in one transaction on one control-shard session: committed when it returns. When it throws (or a
   * statement passes its deadline) the session is destroyed, and with it the transaction rolls back on the server.
   */
  async transaction<T>(work: (session: ControlSession) => Promise<T>, options: ControlSessionOptions = {}): Promise<T> {
    return this.withSession(async (session) => {
      await session.query('START TRANSACTION');
      const result = await work(session);
      await session.query('COMMIT', [], { kind: 'write' });
      return result;
    }, options);
  }

  /**
   * Runs `work` on one control-shard session without a transaction, for statements that must share a session: a
   * named lock and the writes it guards, which commit one by one before the lock is released. A session that
   * failed is destroyed rather than returned to the pool.
   */
  session<T>(work: (session: ControlSession) => Promise<T>, options: ControlSessionOptions = {}): Promise<T> {
    return this.withSession(work, options);
  }

  private async withSession<T>(work: (session: ShardSession) => Promise<T>, options: ControlSessionOptions): Promise<T> {
    const session = await this.connections.session(CONTROL_SHARD, { signal: options.signal });
    try {
      const result = await work(session);
      session.release();
      return result;
    } catch (error) {
      session.destroy();
      throw error instanceof StrataError ? error : describeShardError(error, this.handle);
    }
  }
}
