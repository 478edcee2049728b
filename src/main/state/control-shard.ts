import type { PoolConnection } from 'mysql2/promise';
import { StrataError } from '../../shared/errors';
import { describeShardError, type ClusterConnections, type ShardHandle } from '../cluster/connections';

/**
 * The shard that holds the cluster's shared state: schedules, settings, backfills and the audit log. Shard 0, so
 * every console and agent of one profile agrees on it without asking anyone.
 */
export const CONTROL_SHARD = 0;

/** A session on the control shard inside one transaction. */
export type ControlSession = Pick<PoolConnection, 'query'>;

/** Reads and transactions on the control shard, with errors that name it. */
export class ControlShard {
  constructor(private readonly connections: ClusterConnections) {}

  get index(): number {
    return CONTROL_SHARD;
  }

  get handle(): ShardHandle {
    return this.connections.shard(CONTROL_SHARD);
  }

  /** One statement on the control shard. */
  query<T = unknown>(sql: string, params: unknown[] = []): Promise<T> {
    return this.connections.query<T>(CONTROL_SHARD, sql, params);
  }

  /**
   * Runs `work` in one transaction on one control-shard session: committed when it returns, rolled back when it
   * throws. A session that failed mid-transaction is destroyed rather than returned to the pool.
   */
  async transaction<T>(work: (session: ControlSession) => Promise<T>): Promise<T> {
    return this.withConnection(async (connection) => {
      await connection.beginTransaction();
      const result = await work(connection);
      await connection.commit();
      return result;
    });
  }

  /**
   * Runs `work` on one control-shard session without a transaction, for statements that must share a session: a
   * named lock and the writes it guards, which commit one by one before the lock is released. A session that
   * failed is destroyed rather than returned to the pool.
   */
  session<T>(work: (session: ControlSession) => Promise<T>): Promise<T> {
    return this.withConnection(work);
  }

  private async withConnection<T>(work: (connection: PoolConnection) => Promise<T>): Promise<T> {
    let connection: PoolConnection;
    try {
      connection = await (await this.connections.pool(CONTROL_SHARD)).getConnection();
    } catch (error) {
      throw describeShardError(error, this.handle);
    }
    try {
      const result = await work(connection);
      connection.release();
      return result;
    } catch (error) {
      connection.destroy();
      throw error instanceof StrataError ? error : describeShardError(error, this.handle);
    }
  }
}

/** Rows of a `session.query` answer inside a transaction (mysql2 answers `[rows, fields]`). */
export async function selectRows<T>(session: ControlSession, sql: string, params: unknown[] = []): Promise<T[]> {
  const [rows] = (await session.query(sql, params)) as unknown as [T[]];
  return rows;
}
