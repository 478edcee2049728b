import { ErrorCode, StrataError } from '../../shared/errors';
import { describeShardError, type ClusterConnections } from '../cluster/connections';
import type { ControlShard } from '../state/control-shard';

/**
 * Where fencing tokens come from besides Redis. Redis hands out the lease, but its counter is only as durable as
 * Redis is (a restart without persistence, a flush or a failover to a lagging replica starts it again low), so a
 * token is also taken from a counter on the control shard and raised above every token a watermark holds.
 */
export interface FencingTokenSource {
  /** The highest fencing token stored in the watermarks of the shards that answer. */
  highestStored(): Promise<number>;
  /**
   * Takes the next token durably: one more than the stored counter, and at least `atLeast`. Each value is handed
   * out once, so two holders never share a token, whatever Redis forgot.
   */
  take(atLeast: number, by: string): Promise<number>;
}

/** The strata_settings row that holds a lease's durable counter (VARCHAR(64)). */
export function fencingCounterName(leaseName: string): string {
  return `lease-fencing-token:${leaseName}`.slice(0, 64);
}

interface ResultHeader {
  insertId?: number | string;
}

/** The counter on the control shard and the watermark tokens of every shard, through the shared connections. */
export class ClusterFencingTokens implements FencingTokenSource {
  constructor(
    private readonly connections: ClusterConnections,
    private readonly control: ControlShard,
    private readonly leaseName: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async highestStored(): Promise<number> {
    // A shard that does not answer is left out: it cannot be written while it is away, and a token it holds that
    // is higher than the one taken now shows up as `fenced` when it is back, which makes the holder take a new one.
    const tokens = await Promise.all(
      this.connections.shards.map((handle) =>
        this.connections
          .query<Array<{ token: number | string | null }>>(handle.index, 'SELECT MAX(fencing_token) AS token FROM strata_watermarks')
          .then((rows) => Number(rows[0]?.token ?? 0))
          .catch(() => 0),
      ),
    );
    return Math.max(0, ...tokens);
  }

  async take(atLeast: number, by: string): Promise<number> {
    const name = fencingCounterName(this.leaseName);
    try {
      return await this.control.session(async (session) => {
        const at = this.clock();
        await session.query("INSERT IGNORE INTO strata_settings (name, value, updated_at, updated_by) VALUES (?, '0', ?, ?)", [name, at, by.slice(0, 255)]);
        // LAST_INSERT_ID(expr) hands the new value back on this session, so reading and raising is one statement.
        const result = await session.query<ResultHeader>(
          'UPDATE strata_settings SET value = LAST_INSERT_ID(GREATEST(CAST(value AS UNSIGNED) + 1, ?)), updated_at = ?, updated_by = ? WHERE name = ?',
          [Math.max(0, Math.floor(atLeast)), at, by.slice(0, 255), name],
        );
        const token = Number(result.insertId ?? 0);
        if (!Number.isSafeInteger(token) || token < 1) throw new StrataError(ErrorCode.LeaseUnavailable, `the fencing counter ${name} on the control shard holds no usable number`);
        return token;
      });
    } catch (error) {
      const failure = error instanceof StrataError ? error : describeShardError(error, this.control.handle);
      throw new StrataError(
        ErrorCode.LeaseUnavailable,
        `the lease is not taken: its fencing token is recorded on the control shard ${this.control.handle.label}, which did not answer (${failure.message})`,
        { cause: error },
      );
    }
  }
}
