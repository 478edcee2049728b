import type { ScopedLogger } from '../log';

export type Listener<T> = (event: T) => void;

/**
 * A typed event source. A listener that throws is logged and skipped, so one broken subscriber (a closed window,
 * a failed progress bar) never stops a job or the other listeners.
 */
export class Emitter<T> {
  private readonly listeners = new Set<Listener<T>>();

  constructor(
    private readonly log: ScopedLogger,
    private readonly what: string,
  ) {}

  /** Subscribes; the returned function unsubscribes. */
  on(listener: Listener<T>): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Delivers the event to every listener, plus an extra one for this call only (a caller's onProgress). */
  emit(event: T, extra?: Listener<T>): void {
    for (const listener of extra ? [extra, ...this.listeners] : [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.log.warn(`a ${this.what} listener failed`, error);
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }

  clear(): void {
    this.listeners.clear();
  }
}
