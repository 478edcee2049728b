import type { ScopedLogger } from '../log';
import type { ClusterLease, LeaseGrant } from './lease';

/** Why a held lease was given up. */
export type LeaseLossReason = 'taken' | 'unreachable' | 'stopped';

/** What a LeaseKeeper tells its owner. */
export interface LeaseKeeperListener {
  onAcquired(grant: LeaseGrant): void;
  onLost(grant: LeaseGrant, reason: LeaseLossReason): void;
}

export interface LeaseKeeperOptions {
  /** How often to renew a held lease, or try for a free one; a third of the TTL by default. */
  tickMs?: number;
  log: ScopedLogger;
  listener: LeaseKeeperListener;
}

/**
 * Keeps trying for a lease and renews it while held. When renewal fails it stops claiming the lease before the
 * lease could have lapsed in Redis, so its owner stops working no later than a successor could start.
 */
export class LeaseKeeper {
  private grant: LeaseGrant | undefined;
  /** performance.now() when the current grant was last confirmed by Redis. */
  private confirmedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private tick: Promise<void> | undefined;
  private running = false;
  private failure: unknown;
  private readonly tickMs: number;

  constructor(
    private readonly lease: ClusterLease,
    private readonly options: LeaseKeeperOptions,
  ) {
    this.tickMs = options.tickMs ?? Math.max(50, Math.floor(lease.ttlMs / 3));
  }

  /** The grant this keeper holds right now, if any. */
  current(): LeaseGrant | undefined {
    return this.grant;
  }

  /** Why the last attempt to take the lease failed (Redis or the control shard did not answer); cleared by a success. */
  lastFailure(): unknown {
    return this.failure;
  }

  /**
   * Takes a new, higher fencing token for the lease held now, when a watermark turned out to hold a higher one than
   * this grant (a shard that was away when the lease was taken). The owner hears it as a new acquisition.
   */
  async retoken(grant: LeaseGrant): Promise<void> {
    if (this.grant !== grant || !this.running) return;
    const asked = performance.now();
    let next: LeaseGrant | undefined;
    try {
      next = await this.lease.retoken(grant);
    } catch (error) {
      this.options.log.warn(`could not take a new fencing token for the lease (token ${grant.holder.token}); keeping it`, error);
      return;
    }
    if (this.grant !== grant) return;
    if (!next) {
      this.lose(grant, 'taken');
      return;
    }
    this.grant = next;
    this.confirmedAt = asked;
    this.options.log.info(`took fencing token ${next.holder.token} for the lease held with token ${grant.holder.token}, which a watermark had passed`);
    this.options.listener.onAcquired(next);
  }

  /** Makes a first attempt (awaited) and keeps going on a timer until stop(). */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.runTick();
  }

  /** Stops the timer, waits for a tick in flight and releases the lease if held (compare-and-delete). */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.tick;
    const grant = this.grant;
    if (!grant) return;
    this.grant = undefined;
    try {
      const released = await this.lease.release(grant);
      this.options.log.info(released ? `released the lease (token ${grant.holder.token})` : `the lease (token ${grant.holder.token}) had already lapsed`);
    } catch (error) {
      // It lapses on its own after the TTL; nothing else to do.
      this.options.log.warn('could not release the lease', error);
    }
    this.options.listener.onLost(grant, 'stopped');
  }

  private runTick(): Promise<void> {
    this.tick = (this.grant ? this.renew(this.grant) : this.acquire()).finally(() => {
      this.tick = undefined;
      if (this.running) this.timer = setTimeout(() => void this.runTick(), this.tickMs);
    });
    return this.tick;
  }

  private async acquire(): Promise<void> {
    const asked = performance.now();
    try {
      const grant = await this.lease.tryAcquire();
      this.failure = undefined;
      if (!grant || !this.running) {
        if (grant) await this.lease.release(grant).catch(() => false);
        return;
      }
      this.grant = grant;
      this.confirmedAt = asked;
      this.options.log.info(`acquired the lease with fencing token ${grant.holder.token}`);
      this.options.listener.onAcquired(grant);
    } catch (error) {
      this.failure = error;
      this.options.log.debug('could not try for the lease', error);
    }
  }

  private async renew(grant: LeaseGrant): Promise<void> {
    const asked = performance.now();
    let renewed: boolean;
    try {
      renewed = await this.lease.renew(grant);
    } catch (error) {
      // The lease may still be ours in Redis, but a successor can take it once the TTL runs out from the last
      // confirmation; give it up one tick before that, whatever Redis says later.
      if (performance.now() - this.confirmedAt + this.tickMs < this.lease.ttlMs) {
        this.options.log.warn('could not renew the lease; will retry', error);
        return;
      }
      this.lose(grant, 'unreachable');
      return;
    }
    if (renewed) this.confirmedAt = asked;
    else this.lose(grant, 'taken');
  }

  private lose(grant: LeaseGrant, reason: LeaseLossReason): void {
    if (this.grant !== grant) return;
    this.grant = undefined;
    this.options.log.warn(`lost the lease (token ${grant.holder.token}): ${reason === 'taken' ? 'it lapsed or another scheduler holds it' : 'Redis did not answer before it would lapse'}`);
    this.options.listener.onLost(grant, reason);
  }
}
