import { ErrorCode, StrataError } from '../../shared/errors';
import type { Disposable } from './disposable';

/**
 * Keeps the promises of a service's work in flight so `dispose()` can wait for them, and refuses new work once
 * shutdown began. `signal` aborts when the service is disposed; long work links its own cancel to it.
 */
export class WorkTracker implements Disposable {
  private readonly running = new Set<Promise<unknown>>();
  private readonly shutdown = new AbortController();

  constructor(private readonly serviceName: string) {}

  get signal(): AbortSignal {
    return this.shutdown.signal;
  }

  get stopping(): boolean {
    return this.shutdown.signal.aborted;
  }

  /** Runs work unless the service is shutting down, and remembers it until it settles. */
  track<T>(work: () => Promise<T>): Promise<T> {
    if (this.stopping) return Promise.reject(new StrataError(ErrorCode.Cancelled, `the ${this.serviceName} service is shutting down`));
    const promise = work();
    this.running.add(promise);
    void promise.finally(() => this.running.delete(promise)).catch(() => {});
    return promise;
  }

  /** Aborts the shutdown signal and waits for everything in flight to settle. */
  async dispose(): Promise<void> {
    this.shutdown.abort();
    await Promise.allSettled([...this.running]);
  }
}
