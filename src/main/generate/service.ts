import { ErrorCode, StrataError } from '../../shared/errors';
import { describeShardError, type ClusterConnections, type ShardHandle, type ShardSession } from '../cluster/connections';
import { readTablePartitions } from '../cluster/partition-metadata';
import type { ScopedLogger } from '../log';
import { TrafficModel } from './model';
import { BATCH_ROWS, insertBatches, type InsertBatch } from './planner';
import { BoundedQueue } from './queue';
import { parseGenerateRequest, type GenerateRequest, type GenerateSpec } from './spec';

/** A progress event of a run in flight. */
export interface GenerateProgress {
  /** Rows whose INSERT has returned (their transaction may still be open). */
  rowsDone: number;
  rowsTotal: number;
  elapsedSeconds: number;
  rowsPerSecond: number;
}

/** How a caller follows and stops a run. */
export interface GenerateOptions {
  /** Called at most every quarter second while rows go in, and once at the end. */
  onProgress?: (progress: GenerateProgress) => void;
  /** Aborting stops the run after the statements in flight; what went in is committed and reported. */
  signal?: AbortSignal;
}

/** Rows a run committed on one shard. */
export interface ShardRows {
  index: number;
  name: string;
  rows: number;
}

/** What a run did. `rows` counts committed rows only, so it is exact even after a cancel. */
export interface GenerateSummary {
  from: string;
  to: string;
  sites: number;
  views: number;
  seed: number;
  rows: number;
  rowsPerShard: ShardRows[];
  seconds: number;
  rowsPerSecond: number;
  cancelled: boolean;
}

/** How hard the generator pushes; the defaults suit a few shards on a small machine. */
export interface GeneratorTuning {
  connectionsPerShard: number;
  /** INSERTs of BATCH_ROWS rows per transaction: fewer commits means fewer log flushes. */
  batchesPerTransaction: number;
  /** Batches built ahead per shard before the generator waits for a connection to take one. */
  queuedBatchesPerShard: number;
}

export const DEFAULT_TUNING: GeneratorTuning = { connectionsPerShard: 2, batchesPerTransaction: 10, queuedBatchesPerShard: 4 };

/** Inserts synthetic page views into analytics_realtime on the shards that own their sites. */
export interface TrafficGenerator {
  /** Validates the request (nothing is inserted if it is bad), checks every shard, then streams the rows in. */
  run(request: GenerateRequest, options?: GenerateOptions): Promise<GenerateSummary>;
  /** Cancels runs in progress and waits for them to commit what they inserted. */
  dispose(): Promise<void>;
}

const PROGRESS_INTERVAL_MS = 250;

/** The bookkeeping of one run, shared by its producer and its per-shard writers. */
class RunState {
  readonly committedPerShard: number[];
  readonly queues: BoundedQueue<InsertBatch>[];
  rowsDone = 0;
  failure: unknown;
  cancelled = false;
  private lastProgressAt = 0;
  private readonly startedAt = performance.now();

  constructor(
    shardCount: number,
    queueCapacity: number,
    readonly rowsTotal: number,
    private readonly onProgress: ((progress: GenerateProgress) => void) | undefined,
  ) {
    this.committedPerShard = new Array<number>(shardCount).fill(0);
    this.queues = Array.from({ length: shardCount }, () => new BoundedQueue<InsertBatch>(queueCapacity));
  }

  get stopped(): boolean {
    return this.cancelled || this.failure !== undefined;
  }

  get elapsedSeconds(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  cancel(): void {
    this.cancelled = true;
    for (const queue of this.queues) queue.abort();
  }

  fail(error: unknown): void {
    this.failure ??= error;
    for (const queue of this.queues) queue.abort();
  }

  inserted(rows: number): void {
    this.rowsDone += rows;
    if (performance.now() - this.lastProgressAt >= PROGRESS_INTERVAL_MS) this.reportProgress();
  }

  reportProgress(): void {
    this.lastProgressAt = performance.now();
    const elapsedSeconds = this.elapsedSeconds;
    this.onProgress?.({
      rowsDone: this.rowsDone,
      rowsTotal: this.rowsTotal,
      elapsedSeconds,
      rowsPerSecond: elapsedSeconds > 0 ? this.rowsDone / elapsedSeconds : 0,
    });
  }
}

export class GeneratorService implements TrafficGenerator {
  private readonly activeRuns = new Set<{ state: RunState; done: Promise<unknown> }>();

  constructor(
    private readonly connections: ClusterConnections,
    private readonly log: ScopedLogger,
    private readonly tuning: GeneratorTuning = DEFAULT_TUNING,
  ) {}

  async run(request: GenerateRequest, options: GenerateOptions = {}): Promise<GenerateSummary> {
    const spec = parseGenerateRequest(request);
    // allSettled: no check may still be running (and opening connections) once the run has failed.
    const checks = await Promise.allSettled(this.connections.shards.map((shard) => this.checkShard(shard, spec)));
    const refused = checks.find((check) => check.status === 'rejected');
    if (refused) throw refused.reason;
    const state = new RunState(
      this.connections.shardCount,
      this.tuning.queuedBatchesPerShard,
      spec.views,
      options.onProgress,
    );
    const onAbort = () => state.cancel();
    if (options.signal?.aborted) state.cancel();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.log.info(`generating ${spec.views} views over ${spec.sites} sites, ${spec.from.toISOString()} to ${spec.to.toISOString()}, seed ${spec.seed}`);
    const done = this.insertAll(spec, state);
    const entry = { state, done };
    this.activeRuns.add(entry);
    try {
      await done;
    } finally {
      this.activeRuns.delete(entry);
      options.signal?.removeEventListener('abort', onAbort);
    }
    state.reportProgress();
    const summary = this.summarise(spec, state);
    if (state.failure !== undefined) {
      const cause = asCodedFailure(state.failure);
      this.log.error(`generate failed after ${summary.rows} rows`, state.failure);
      throw new StrataError(cause.code, `${cause.message} (generate stopped; ${describeRows(summary)} had been inserted)`, { cause: state.failure });
    }
    this.log.info(`generate ${summary.cancelled ? 'cancelled' : 'finished'}: ${describeRows(summary)} in ${summary.seconds.toFixed(1)} s`);
    return summary;
  }

  async dispose(): Promise<void> {
    for (const run of this.activeRuns) run.state.cancel();
    await Promise.allSettled([...this.activeRuns].map((run) => run.done));
  }

  /** Refuses before anything is inserted if a shard lacks the table or a partition for the range. */
  private async checkShard(shard: ShardHandle, spec: GenerateSpec): Promise<void> {
    const [table] = await this.connections.query<Array<{ present: number }>>(
      shard.index,
      `SELECT COUNT(*) AS present FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'analytics_realtime'`,
    );
    if (!table?.present) {
      throw new StrataError(
        ErrorCode.GenerateTableMissing,
        `${shard.label} has no analytics_realtime table in ${shard.config.database}; apply the Strata schema first`,
      );
    }
    // A RANGE-partitioned table rejects rows past its last bound; find that out before inserting anything.
    const partitions = await readTablePartitions((sql, params) => this.connections.query(shard.index, sql, params), 'analytics_realtime');
    const bound = partitions?.filter((partition) => partition.method === 'RANGE').at(-1)?.description;
    if (bound && bound !== 'MAXVALUE' && Number(bound) < spec.endSecond) {
      throw new StrataError(
        ErrorCode.GenerateNoPartition,
        `${shard.label}: analytics_realtime has partitions only up to ${new Date(Number(bound) * 1000).toISOString()}; add partitions up to ${spec.to.toISOString()} or choose an earlier --to`,
      );
    }
  }

  private async insertAll(spec: GenerateSpec, state: RunState): Promise<void> {
    const writers = this.connections.shards.flatMap((shard) =>
      Array.from({ length: this.tuning.connectionsPerShard }, () => this.writeBatches(shard, state)),
    );
    try {
      const batches = insertBatches(new TrafficModel(spec), this.connections.shardCount, (siteId) => this.connections.shardOfSite(siteId).index, BATCH_ROWS);
      for (const batch of batches) {
        if (state.stopped || !(await state.queues[batch.shard]!.put(batch))) break;
      }
    } catch (error) {
      state.fail(error);
    } finally {
      for (const queue of state.queues) queue.close();
      await Promise.all(writers);
    }
  }

  /** One connection's loop: takes batches for its shard and commits every few, and once more at the end. */
  private async writeBatches(shard: ShardHandle, state: RunState): Promise<void> {
    const queue = state.queues[shard.index]!;
    let session: ShardSession | undefined;
    let batchesInTransaction = 0;
    let uncommittedRows = 0;
    const commit = async (session: ShardSession) => {
      await session.query('COMMIT', [], { kind: 'write' });
      state.committedPerShard[shard.index]! += uncommittedRows;
      batchesInTransaction = 0;
      uncommittedRows = 0;
    };
    try {
      session = await this.connections.session(shard.index);
      for (let batch = await queue.take(); batch; batch = await queue.take()) {
        if (batchesInTransaction === 0) await session.query('START TRANSACTION');
        await session.query(batch.sql, [], { kind: 'write' });
        batchesInTransaction += 1;
        uncommittedRows += batch.rows;
        state.inserted(batch.rows);
        if (batchesInTransaction >= this.tuning.batchesPerTransaction) await commit(session);
      }
      if (batchesInTransaction > 0) await commit(session);
      session.release();
    } catch (error) {
      state.fail(describeShardError(error, shard));
      // Closing the session rolls its open transaction back, and keeps a broken one out of the pool.
      session?.destroy();
    }
  }

  private summarise(spec: GenerateSpec, state: RunState): GenerateSummary {
    const rows = state.committedPerShard.reduce((sum, count) => sum + count, 0);
    const seconds = state.elapsedSeconds;
    return {
      from: spec.from.toISOString(),
      to: spec.to.toISOString(),
      sites: spec.sites,
      views: spec.views,
      seed: spec.seed,
      rows,
      rowsPerShard: this.connections.shards.map((shard) => ({ index: shard.index, name: shard.label, rows: state.committedPerShard[shard.index]! })),
      seconds: Math.round(seconds * 1000) / 1000,
      rowsPerSecond: seconds > 0 ? Math.round(rows / seconds) : 0,
      cancelled: state.cancelled && state.failure === undefined,
    };
  }
}

function asCodedFailure(error: unknown): { code: StrataError['code']; message: string } {
  if (error instanceof StrataError) return { code: error.code, message: error.message };
  return { code: ErrorCode.Internal, message: error instanceof Error ? error.message : String(error) };
}

function describeRows(summary: GenerateSummary): string {
  const perShard = summary.rowsPerShard.map((shard) => `${shard.name} ${shard.rows}`).join(', ');
  return `${summary.rows} rows (${perShard})`;
}
