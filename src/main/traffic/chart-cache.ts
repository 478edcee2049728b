import type { Redis } from 'ioredis';
import { trafficAnswerSchema, type TrafficAnswer } from '../../shared/traffic';
import { withDeadline } from '../lifecycle/deadline';
import type { ScopedLogger } from '../log';
import { LocalCopies, type LocalCopiesOptions } from './local-copies';
import { CHART_CACHE_PREFIX } from './planner';

/**
 * Strata's own cache of its chart answers in Redis, under `strata:chart:v1:` (never the application's keys). A
 * Redis that does not answer within `deadlineMs` is no error: the chart is served from the shards and says why it
 * is uncached. Charts this process wrote or read are also kept in memory while Redis tracks the prefix for it
 * (see LocalCopies), so a repeated chart costs no round trip; a change to the key anywhere drops the copy.
 */
export interface ChartCacheOptions {
  /** The longest a cache read or write may hold a chart up; default 250 ms. */
  deadlineMs?: number;
  /** In-memory copies kept coherent by Redis tracking; `false` reads Redis every time. */
  localCopies?: Omit<LocalCopiesOptions, 'prefix'> | false;
}

export type CacheRead = { kind: 'hit'; answer: TrafficAnswer; ageSeconds: number; from: 'memory' | 'redis' } | { kind: 'miss' } | { kind: 'down'; reason: string };

interface StoredChart {
  storedAt: number;
  /** The key's TTL when written; an entry without it (an older version's) is not copied into memory. */
  ttlSeconds?: number;
  answer: TrafficAnswer;
}

export class ChartCache {
  private readonly deadlineMs: number;
  private readonly copies: LocalCopies<StoredChart> | undefined;

  constructor(
    private readonly redis: () => Promise<Redis>,
    private readonly log: ScopedLogger,
    options: ChartCacheOptions & { openTracking?: () => Promise<Redis> } = {},
  ) {
    this.deadlineMs = options.deadlineMs ?? 250;
    if (options.localCopies !== false && options.openTracking) {
      this.copies = new LocalCopies<StoredChart>(options.openTracking, log, { ...options.localCopies, prefix: CHART_CACHE_PREFIX });
    }
  }

  async read(key: string, now: Date): Promise<CacheRead> {
    const copy = this.copies?.get(key);
    if (copy) return this.hit(copy, now, 'memory');
    const ticket = this.copies?.begin(key);
    let kept: StoredChart | undefined;
    let bytes = 0;
    try {
      const text = await this.bounded(async (client) => client.get(key));
      if (text === null) return { kind: 'miss' };
      const stored = JSON.parse(text) as StoredChart;
      const parsed = trafficAnswerSchema.safeParse(stored.answer);
      // An entry another version wrote, or a damaged one, is a miss: it is computed again and overwritten.
      if (!parsed.success || typeof stored.storedAt !== 'number') return { kind: 'miss' };
      kept = { storedAt: stored.storedAt, ttlSeconds: stored.ttlSeconds, answer: parsed.data };
      bytes = text.length;
      return this.hit(kept, now, 'redis');
    } catch (error) {
      return { kind: 'down', reason: this.reason(error) };
    } finally {
      if (ticket) this.copies!.settle(ticket, kept?.ttlSeconds ? { value: kept, bytes, ttlMs: kept.storedAt + kept.ttlSeconds * 1000 - now.getTime(), ownWrites: 0 } : undefined);
    }
  }

  /** Stores an answer for `ttlSeconds`; answers the reason when Redis did not take it. */
  async write(key: string, answer: TrafficAnswer, ttlSeconds: number, now: Date): Promise<string | undefined> {
    const stored: StoredChart = { storedAt: now.getTime(), ttlSeconds, answer };
    const text = JSON.stringify(stored);
    const ticket = this.copies?.begin(key);
    let written = false;
    try {
      await this.bounded((client) => client.set(key, text, 'EX', ttlSeconds));
      written = true;
      return undefined;
    } catch (error) {
      return this.reason(error);
    } finally {
      if (ticket) this.copies!.settle(ticket, written ? { value: stored, bytes: text.length, ttlMs: ttlSeconds * 1000, ownWrites: 1 } : undefined);
    }
  }

  /** After this process deleted chart keys: its own next read finds none of them in memory. */
  async sync(): Promise<void> {
    await this.copies?.sync();
  }

  async dispose(): Promise<void> {
    await this.copies?.dispose();
  }

  private hit(stored: StoredChart, now: Date, from: 'memory' | 'redis'): CacheRead {
    return { kind: 'hit', answer: stored.answer, ageSeconds: Math.max(0, Math.round((now.getTime() - stored.storedAt) / 100) / 10), from };
  }

  private async bounded<T>(work: (client: Redis) => Promise<T>): Promise<T> {
    const running = this.redis().then(async (client) => {
      // A client that gave up reconnecting while Redis was away starts again here, as the lease's does.
      if (client.status === 'end') await client.connect().catch(() => {});
      return work(client);
    });
    return withDeadline(running, this.deadlineMs, () => new Error(`Redis gave no answer within ${this.deadlineMs} ms`));
  }

  private reason(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    this.log.warn('chart cache unavailable', { error: message });
    return `Redis is unavailable (${message}); served from the shards`;
  }
}
