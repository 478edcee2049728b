/**
 * A bounded hand-over queue between one producer and a few consumers. `put` waits while the queue is
 * full, which is the generator's backpressure: it never builds batches faster than a shard takes them.
 */
export class BoundedQueue<T> {
  private readonly items: T[] = [];
  private waitingTakers: Array<(item: T | undefined) => void> = [];
  private waitingPutters: Array<() => void> = [];
  private closed = false;

  constructor(private readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be at least 1, got ${capacity}`);
  }

  get length(): number {
    return this.items.length;
  }

  /** Resolves true once the item is queued, or false if the queue was closed meanwhile (the item is dropped). */
  async put(item: T): Promise<boolean> {
    while (!this.closed && this.items.length >= this.capacity) {
      await new Promise<void>((resolve) => this.waitingPutters.push(resolve));
    }
    if (this.closed) return false;
    const taker = this.waitingTakers.shift();
    if (taker) taker(item);
    else this.items.push(item);
    return true;
  }

  /** The next item; undefined once the queue is closed and empty. */
  async take(): Promise<T | undefined> {
    const item = this.items.shift();
    if (item !== undefined) {
      this.waitingPutters.shift()?.();
      return item;
    }
    if (this.closed) return undefined;
    return new Promise((resolve) => this.waitingTakers.push(resolve));
  }

  /** No more puts; consumers still get what is queued, then undefined. */
  close(): void {
    this.closed = true;
    for (const taker of this.waitingTakers) taker(undefined);
    for (const putter of this.waitingPutters) putter();
    this.waitingTakers = [];
    this.waitingPutters = [];
  }

  /** Closes and drops whatever is still queued: consumers stop after their current item. */
  abort(): void {
    this.items.length = 0;
    this.close();
  }
}
