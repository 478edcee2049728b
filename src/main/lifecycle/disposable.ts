/** Anything a host must stop before it exits: services, timers, pools. */
export interface Disposable {
  dispose(): Promise<void> | void;
}

/**
 * Disposes what was added to it in reverse order of addition, once: a second `dispose()` waits for the first and
 * does nothing more, and a failure of one item does not keep the ones before it from being disposed.
 */
export class DisposableStore implements Disposable {
  private readonly items: Disposable[] = [];
  private disposing: Promise<void> | undefined;

  add<T extends Disposable>(item: T): T {
    if (this.disposing) throw new Error('cannot add to a disposed store');
    this.items.push(item);
    return item;
  }

  get isDisposed(): boolean {
    return this.disposing !== undefined;
  }

  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      const failures: unknown[] = [];
      for (const item of [...this.items].reverse()) {
        try {
          await item.dispose();
        } catch (error) {
          failures.push(error);
        }
      }
      if (failures.length > 0) throw new AggregateError(failures, `${failures.length} of ${this.items.length} services failed to stop`);
    })();
    return this.disposing;
  }
}

/** A Disposable made from a function, for timers and subscriptions. */
export function toDisposable(dispose: () => Promise<void> | void): Disposable {
  let done = false;
  return {
    dispose() {
      if (done) return;
      done = true;
      return dispose();
    },
  };
}
