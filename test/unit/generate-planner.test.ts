import { describe, expect, it } from 'vitest';
import { emptyPageView, PATHS, REFERRERS, TrafficModel } from '../../src/main/generate/model';
import { BATCH_ROWS, insertBatches, TimestampFormatter, type InsertBatch } from '../../src/main/generate/planner';
import { BoundedQueue } from '../../src/main/generate/queue';
import { parseGenerateRequest } from '../../src/main/generate/spec';
import { shardForSite } from '../../src/shared/routing';

const spec = parseGenerateRequest({ from: '2025-03-01T00:00:00Z', to: '2025-03-01T06:00:00Z', sites: 50, views: 7_777, seed: 99 });
const ROW = /\((\d+),'(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)',(\d+),('(?:[^'\\]|\\.)*'),(NULL|'(?:[^'\\]|\\.)*')\)/g;

function rowsOf(batch: InsertBatch): Array<{ siteId: number; createdAt: string; visitorId: number; path: string; referrer: string }> {
  return [...batch.sql.matchAll(ROW)].map((match) => ({
    siteId: Number(match[1]),
    createdAt: match[2]!,
    visitorId: Number(match[3]),
    path: match[4]!,
    referrer: match[5]!,
  }));
}

function batchesFor(shards: number): InsertBatch[] {
  return [...insertBatches(new TrafficModel(spec), shards, (siteId) => shardForSite(siteId, shards))];
}

describe('insert batches', () => {
  it('sends every row to the shard that owns its site, in batches of at most 1000 rows', () => {
    const batches = batchesFor(3);
    let total = 0;
    for (const batch of batches) {
      const rows = rowsOf(batch);
      expect(batch.sql.startsWith('INSERT INTO analytics_realtime (site_id, created_at, visitor_id, path, referrer) VALUES (')).toBe(true);
      expect(rows).toHaveLength(batch.rows);
      expect(batch.rows).toBeLessThanOrEqual(BATCH_ROWS);
      expect(rows.every((row) => row.siteId % 3 === batch.shard)).toBe(true);
      total += batch.rows;
    }
    expect(total).toBe(7_777);
    // Only the last batch of each shard may be partial.
    expect(batches.filter((batch) => batch.rows < BATCH_ROWS).length).toBeLessThanOrEqual(3);
  });

  it('writes every value of every view exactly, in order', () => {
    const model = new TrafficModel(spec);
    const expected: string[] = [];
    const cursor = model.cursor();
    const view = emptyPageView();
    while (cursor.next(view)) {
      const createdAt = new Date(view.second * 1000).toISOString().slice(0, 19).replace('T', ' ');
      const referrer = REFERRERS[view.referrerIndex]!.referrer;
      expected.push(`(${view.siteId},'${createdAt}',${view.visitorId},'${PATHS[view.pathIndex]!.path}',${referrer === null ? 'NULL' : `'${referrer}'`})`);
    }
    const written = [...insertBatches(model, 1, () => 0)].flatMap((batch) => [...batch.sql.matchAll(ROW)].map((match) => match[0]));
    expect(written).toEqual(expected);
  });

  it('writes the same rows whatever the number of shards', () => {
    const canonical = (batches: InsertBatch[]) =>
      batches
        .flatMap(rowsOf)
        .map((row) => JSON.stringify(row))
        .sort();
    expect(canonical(batchesFor(1))).toEqual(canonical(batchesFor(4)));
  });

  it('writes UTC timestamps inside the range, and paths and referrers as quoted literals or NULL', () => {
    const rows = batchesFor(2).flatMap(rowsOf);
    expect(rows.every((row) => row.createdAt >= '2025-03-01 00:00:00' && row.createdAt < '2025-03-01 06:00:00')).toBe(true);
    expect(rows.every((row) => row.path.startsWith("'/"))).toBe(true);
    expect(rows.some((row) => row.referrer === 'NULL')).toBe(true);
    expect(rows.some((row) => row.referrer.startsWith("'https://"))).toBe(true);
  });
});

describe('timestamp formatting', () => {
  it('matches the ISO form in UTC across hour, day and year boundaries', () => {
    const formatter = new TimestampFormatter();
    for (const iso of ['2024-12-31T23:59:59Z', '2025-01-01T00:00:00Z', '2025-01-01T00:59:07Z', '2024-02-29T13:05:09Z', '2025-01-01T01:00:00Z']) {
      const second = Date.parse(iso) / 1000;
      expect(formatter.format(second)).toBe(iso.slice(0, 19).replace('T', ' '));
    }
  });
});

describe('backpressure', () => {
  it('makes the producer wait while a queue is full, and releases it with false when the run is aborted', async () => {
    const queue = new BoundedQueue<number>(2);
    expect(await queue.put(1)).toBe(true);
    expect(await queue.put(2)).toBe(true);
    let thirdQueued: boolean | undefined;
    const third = queue.put(3).then((queued) => (thirdQueued = queued));
    await Promise.resolve();
    expect(thirdQueued).toBeUndefined();
    expect(await queue.take()).toBe(1);
    await third;
    expect(thirdQueued).toBe(true);
    const fourth = queue.put(4);
    queue.abort();
    expect(await fourth).toBe(false);
    expect(await queue.take()).toBeUndefined();
  });

  it('lets consumers drain what is queued after a normal close', async () => {
    const queue = new BoundedQueue<string>(4);
    await queue.put('a');
    await queue.put('b');
    queue.close();
    expect([await queue.take(), await queue.take(), await queue.take()]).toEqual(['a', 'b', undefined]);
  });
});
