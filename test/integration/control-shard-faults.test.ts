import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/main/log';
import { SandboxManager } from '../../src/main/sandbox/sandbox';
import { ErrorCode } from '../../src/shared/errors';
import { startTestCluster, type TestCluster } from '../support/cluster';
import { realSleep } from '../support/time';

/** Short enough that a frozen control shard fails a statement soon; a healthy one answers these well within it. */
const READ_DEADLINE_MS = 2000;
/** How long something that must happen may take before the test gives up: not a speed target. */
const PATIENCE_MS = 60_000;
const SETTING = 'test-frozen-transaction';

describe('a control-shard transaction when the control shard freezes (SIGSTOP)', () => {
  let cluster: TestCluster;
  const sandbox = new SandboxManager(silentLogger.scope('sandbox'));
  let frozen = false;

  async function freeze(): Promise<void> {
    frozen = true;
    expect(await sandbox.signalServer(cluster.dir, 0, 'SIGSTOP')).toBeDefined();
  }

  async function thaw(): Promise<void> {
    if (!frozen) return;
    frozen = false;
    await sandbox.signalServer(cluster.dir, 0, 'SIGCONT');
  }

  /** Retries `work` until it succeeds: a thawed server notices the closed sessions on its own time. */
  async function eventually<T>(work: () => Promise<T>): Promise<T> {
    const giveUp = Date.now() + PATIENCE_MS;
    for (;;) {
      try {
        return await work();
      } catch (error) {
        if (Date.now() > giveUp) throw error;
        await realSleep(100);
      }
    }
  }

  beforeAll(async () => {
    cluster = await startTestCluster({ shards: 1, services: { connection: { deadlines: { read: READ_DEADLINE_MS, write: READ_DEADLINE_MS } } } });
  }, 120_000);

  afterAll(async () => {
    await thaw();
    await cluster?.down();
  });

  it('ends with ShardTimeout (3006) naming the shard when the shard stops answering mid-transaction, and commits nothing of it', async () => {
    const { state } = cluster.services;
    const written = { name: SETTING, value: '"half-done"', updatedAt: new Date('2024-03-01T00:00:00Z'), updatedBy: 'test@host' };
    let statementsBeforeFreeze = 0;
    try {
      const transaction = state.control.transaction(async (session) => {
        await state.settings.write(written, session);
        statementsBeforeFreeze += 1;
        await freeze();
        return state.settings.readForUpdate(session, SETTING);
      });
      await expect(transaction).rejects.toMatchObject({ code: ErrorCode.ShardTimeout, message: expect.stringMatching(/^shard0 \(127\.0\.0\.1:\d+\): no answer within/) });
    } finally {
      await thaw();
    }
    expect(statementsBeforeFreeze).toBe(1);

    // The destroyed session's transaction rolled back: the setting was never stored, and a new transaction can write
    // the same row (a transaction still open on the server would hold its lock).
    expect(await eventually(() => state.settings.read(SETTING))).toBeUndefined();
    const after = { ...written, value: '"whole"' };
    await eventually(() => state.control.transaction((session) => state.settings.write(after, session)));
    expect(await state.settings.read(SETTING)).toMatchObject({ value: '"whole"' });
  }, 120_000);

  it('ends with ShardTimeout (3006) when the shard is already frozen as the transaction starts', async () => {
    const { state } = cluster.services;
    try {
      await freeze();
      const transaction = state.control.transaction((session) => session.query('SELECT 1'));
      await expect(transaction).rejects.toMatchObject({ code: ErrorCode.ShardTimeout, message: expect.stringMatching(/^shard0 \(127\.0\.0\.1:\d+\): no (answer|connection) within/) });
    } finally {
      await thaw();
    }
    // Thawed, the control shard serves new sessions again: the timed-out one was not handed back to the pool.
    expect(await eventually(() => state.control.query<Array<{ one: number }>>('SELECT 1 AS one'))).toEqual([{ one: 1 }]);
  }, 120_000);
});
