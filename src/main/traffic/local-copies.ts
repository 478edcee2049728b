import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { withDeadline } from '../lifecycle/deadline';
import type { ScopedLogger } from '../log';

/**
 * In-process copies of Strata's cached charts, kept coherent with Redis by server-assisted client-side caching
 * (`CLIENT TRACKING … BCAST PREFIX`): Redis tells this process about every change to a key under the prefix
 * (a write, a delete by any console or agent, an expiry, a flush), and the copy goes at once. A hit is then a
 * lookup in memory instead of a round trip that shares two cores with the shards.
 *
 * Copies are only kept while the tracking connection is up and subscribed: a closed connection may have lost
 * invalidations, so every copy goes with it and reads go to Redis until a new connection is tracking again.
 */
export interface LocalCopiesOptions {
  prefix: string;
  /** Total size of the copies (their stored JSON), default 32 MiB; the least recently read go first. */
  maxBytes?: number;
  /** The longest the tracking connection's setup may take; default 1 s. */
  setupDeadlineMs?: number;
  /** How long after a failed or closed tracking connection the next is tried; default 1 s. */
  retryAfterMs?: number;
  /**
   * Copies are served only while the tracking connection was heard from this recently (it is pinged every half of
   * it): a network that silently drops the connection cannot keep stale copies alive; 10 s.
   */
  silenceMs?: number;
  clock?: () => number;
}

interface Copy<T> {
  value: T;
  /** The size of the stored JSON it came from, for the cache's byte bound. */
  bytes: number;
  /** Invalidations still expected from this process's own write of the key; any beyond them drop the copy. */
  ownPending: number;
}

/** An operation on a key under way: what it saw when it began, so a change during it keeps its result out. */
export interface CopyTicket {
  readonly key: string;
  readonly epoch: number;
  readonly changes: number;
}

const INVALIDATE_CHANNEL = '__redis__:invalidate';

export class LocalCopies<T> {
  private readonly copies: LRUCache<string, Copy<T>>;
  /** Per key with an operation under way: how many operations, and how many invalidations arrived meanwhile. */
  private readonly inFlight = new Map<string, { operations: number; changes: number }>();
  /** Bumped whenever every copy is dropped (the connection closed, Redis was flushed): older tickets store nothing. */
  private epoch = 0;
  private tracking = false;
  private connection: Redis | undefined;
  private opening: Promise<void> | undefined;
  private nextAttemptAt = 0;
  private disposed = false;
  private readonly clock: () => number;
  private readonly setupDeadlineMs: number;
  private readonly retryAfterMs: number;
  private readonly silenceMs: number;
  private lastHeardAt = 0;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly open: () => Promise<Redis>,
    private readonly log: ScopedLogger,
    private readonly options: LocalCopiesOptions,
  ) {
    this.clock = options.clock ?? Date.now;
    this.setupDeadlineMs = options.setupDeadlineMs ?? 1000;
    this.retryAfterMs = options.retryAfterMs ?? 1000;
    this.silenceMs = options.silenceMs ?? 10_000;
    this.copies = new LRUCache<string, Copy<T>>({ maxSize: options.maxBytes ?? 32 * 1024 * 1024, sizeCalculation: (copy) => Math.max(1, copy.bytes), ttlAutopurge: false, ttlResolution: 0, perf: { now: () => this.clock() } });
  }

  /** Whether Redis is telling this process about changes now (copies are kept and served only then). */
  get live(): boolean {
    return this.tracking;
  }

  get size(): number {
    return this.copies.size;
  }

  /** The copy of `key`, if one is held and has not expired; starts tracking when it is not running. */
  get(key: string): T | undefined {
    this.ensureTracking();
    if (!this.tracking) return undefined;
    if (this.clock() - this.lastHeardAt >= this.silenceMs) return undefined;
    return this.copies.get(key)?.value;
  }

  /** Call before the GET or SET whose result may be kept; then settle() with the result, whatever happened. */
  begin(key: string): CopyTicket {
    this.ensureTracking();
    const entry = this.inFlight.get(key) ?? { operations: 0, changes: 0 };
    entry.operations += 1;
    this.inFlight.set(key, entry);
    return { key, epoch: this.tracking ? this.epoch : -1, changes: entry.changes };
  }

  /**
   * Ends the operation of `ticket`. With a value (never changed afterwards: it is handed out as it is), keeps it as
   * the copy of the key for `ttlMs` when nothing changed the key meanwhile beyond `ownWrites` (1 for this process's
   * own SET of it, whose invalidation Redis sends too).
   */
  settle(ticket: CopyTicket, result?: { value: T; bytes: number; ttlMs: number; ownWrites: 0 | 1 }): void {
    const entry = this.inFlight.get(ticket.key);
    const changes = entry ? entry.changes - ticket.changes : 0;
    if (entry && --entry.operations === 0) this.inFlight.delete(ticket.key);
    if (!result || result.ttlMs <= 0 || !this.tracking || ticket.epoch !== this.epoch) return;
    if (changes > result.ownWrites) {
      // Changed by someone else while this process read or wrote it: the value is not known to be current.
      this.copies.delete(ticket.key);
      return;
    }
    this.copies.set(ticket.key, { value: result.value, bytes: result.bytes, ownPending: result.ownWrites - changes }, { ttl: result.ttlMs });
  }

  /**
   * Waits until Redis has told this process of every change made before the call: a PING on the tracking connection
   * is answered after the invalidations queued ahead of it. A process that just deleted keys calls it, so its own
   * next read cannot find a copy of what it deleted. Without an answer in time every copy goes.
   */
  async sync(): Promise<void> {
    const connection = this.connection;
    if (!this.tracking || !connection) return;
    try {
      await withDeadline(connection.ping(), this.setupDeadlineMs, () => new Error(`no answer to PING within ${this.setupDeadlineMs} ms`));
      if (this.connection === connection) this.lastHeardAt = this.clock();
    } catch {
      this.dropAll();
      connection.disconnect();
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.dropAll();
    await this.opening?.catch(() => {});
    const connection = this.connection;
    this.connection = undefined;
    if (connection) await withDeadline(connection.quit(), this.setupDeadlineMs, () => new Error('quit')).catch(() => connection.disconnect());
  }

  private invalidated(key: string): void {
    const entry = this.inFlight.get(key);
    if (entry) entry.changes += 1;
    const copy = this.copies.peek(key);
    if (!copy) return;
    if (copy.ownPending > 0) copy.ownPending -= 1;
    else this.copies.delete(key);
  }

  private dropAll(): void {
    this.epoch += 1;
    this.tracking = false;
    this.copies.clear();
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private ensureTracking(): void {
    if (this.tracking || this.opening || this.disposed || this.clock() < this.nextAttemptAt) return;
    this.opening = this.startTracking()
      .catch((error: unknown) => {
        this.nextAttemptAt = this.clock() + this.retryAfterMs;
        this.log.debug('chart copies: tracking unavailable; reading Redis', { error: error instanceof Error ? error.message : String(error) });
      })
      .finally(() => (this.opening = undefined));
  }

  private async startTracking(): Promise<void> {
    const connection = await this.open();
    this.connection = connection;
    const closed = () => {
      if (this.connection !== connection) return;
      this.connection = undefined;
      this.dropAll();
      this.nextAttemptAt = this.clock() + this.retryAfterMs;
    };
    connection.on('error', () => {});
    connection.on('close', closed);
    connection.on('end', closed);
    // The payload is the changed keys, or nil when the whole database was flushed.
    connection.on('messageBuffer', (channel: Buffer, keys: Buffer[] | null) => {
      if (channel.toString() !== INVALIDATE_CHANNEL) return;
      this.lastHeardAt = this.clock();
      if (!Array.isArray(keys)) {
        // Flushed: every copy goes, the connection keeps tracking.
        this.epoch += 1;
        this.copies.clear();
        return;
      }
      for (const key of keys) this.invalidated(key.toString());
    });
    try {
      await withDeadline(
        (async () => {
          await connection.connect();
          const id = await connection.client('ID');
          await connection.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id), 'BCAST', 'PREFIX', this.options.prefix);
          await connection.subscribe(INVALIDATE_CHANNEL);
        })(),
        this.setupDeadlineMs,
        () => new Error(`tracking setup took over ${this.setupDeadlineMs} ms`),
      );
    } catch (error) {
      closed();
      connection.disconnect();
      throw error;
    }
    if (this.disposed || this.connection !== connection) {
      connection.disconnect();
      return;
    }
    this.epoch += 1;
    this.lastHeardAt = this.clock();
    this.tracking = true;
    // A quiet connection is pinged on a timer, so a chart asked after minutes without changes still finds its copy.
    this.heartbeat = setInterval(() => void this.sync(), this.silenceMs / 2);
    this.heartbeat.unref();
  }
}
