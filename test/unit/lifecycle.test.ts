import { describe, expect, it } from 'vitest';
import { DisposableStore, toDisposable } from '../../src/main/lifecycle/disposable';
import { Emitter } from '../../src/main/lifecycle/emitter';
import { WorkTracker } from '../../src/main/lifecycle/work-tracker';
import { ErrorCode } from '../../src/shared/errors';

const quietLog = { info() {}, warn() {}, error() {}, debug() {} };

describe('DisposableStore', () => {
  it('stops services in reverse order of creation, and a second dispose() stops nothing again', async () => {
    const stopped: string[] = [];
    const store = new DisposableStore();
    for (const name of ['connections', 'rollup', 'scheduler']) store.add(toDisposable(() => void stopped.push(name)));
    await store.dispose();
    await store.dispose();
    expect(stopped).toEqual(['scheduler', 'rollup', 'connections']);
  });

  it('keeps stopping the others when one fails, then reports the failure', async () => {
    const stopped: string[] = [];
    const store = new DisposableStore();
    store.add(toDisposable(() => void stopped.push('first')));
    store.add({ dispose: () => Promise.reject(new Error('pool would not close')) });
    store.add(toDisposable(() => void stopped.push('last')));
    await expect(store.dispose()).rejects.toThrow(/1 of 3 services failed to stop/);
    expect(stopped).toEqual(['last', 'first']);
  });

  it('refuses new services once disposed', async () => {
    const store = new DisposableStore();
    await store.dispose();
    expect(() => store.add(toDisposable(() => {}))).toThrow(/disposed/);
  });
});

describe('Emitter', () => {
  it('delivers to every listener, skips one that throws, and unsubscribes', () => {
    const warnings: string[] = [];
    const emitter = new Emitter<number>({ ...quietLog, warn: (message: string) => void warnings.push(message) }, 'progress');
    const seen: number[] = [];
    emitter.on(() => {
      throw new Error('closed window');
    });
    const off = emitter.on((value) => seen.push(value));
    emitter.emit(1, (value) => seen.push(value * 10));
    off();
    emitter.emit(2);
    expect(seen).toEqual([10, 1]);
    expect(warnings).toEqual(['a progress listener failed', 'a progress listener failed']);
  });
});

describe('WorkTracker', () => {
  it('waits for work in flight on dispose and refuses new work afterwards with Cancelled', async () => {
    const tracker = new WorkTracker('rollup');
    let finish!: () => void;
    let finished = false;
    void tracker.track(() => new Promise<void>((resolve) => (finish = resolve)).then(() => void (finished = true)));
    const disposing = tracker.dispose();
    expect(tracker.signal.aborted).toBe(true);
    finish();
    await disposing;
    expect(finished).toBe(true);
    await expect(tracker.track(async () => 1)).rejects.toMatchObject({ code: ErrorCode.Cancelled, message: 'the rollup service is shutting down' });
  });
});
