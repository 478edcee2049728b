import { describe, expect, it } from 'vitest';
import { formatBackfillPlan } from '../../src/cli/commands/backfill';
import { levelsHolding, refusedRanges, type RefusedStep } from '../../src/main/backfill/planner';
import { DEFAULT_RETENTION, type RollupLevel } from '../../src/shared/rollup';

const t = (text: string) => new Date(text);
const NOW = t('2026-12-02T06:00:00Z');
const hour = (text: string, heldBy?: RollupLevel[]): RefusedStep => ({ level: 'hourly', start: t(text), end: new Date(t(text).getTime() + 3_600_000), shards: [0], heldBy });

describe('a backfill dry run over windows whose source is missing', () => {
  it('says there are no rows when the level retention still keeps holds none, instead of "were pruned"', () => {
    // Three weeks ago: raw (48 h) and hourly (7 days) are past retention, the daily rows (365 days) are kept.
    const [range] = refusedRanges([hour('2026-11-10T05:00:00Z', []), hour('2026-11-10T06:00:00Z', [])], NOW, DEFAULT_RETENTION);
    expect(range).toMatchObject({ from: '2026-11-10T05:00:00.000Z', to: '2026-11-10T07:00:00.000Z', rebuildFrom: null });
    expect(range!.message).toBe(
      'there are no rows for 2026-11-10T05:00:00.000Z – 2026-11-10T07:00:00.000Z on shard 0: no raw page views, and the daily rows (kept 365 days) hold none, so no traffic was recorded then and there is nothing to backfill',
    );
    expect(range!.message).not.toMatch(/pruned|--level monthly/);
  });

  it('says pruned and names the level that still holds the rows when one does', () => {
    const [recent] = refusedRanges([hour('2026-11-29T05:00:00Z', ['hourly', 'daily', 'monthly'])], NOW, DEFAULT_RETENTION);
    expect(recent!.message).toMatch(/raw page views of .* were pruned on shard 0 \(kept 48 h\); the hourly rows still hold it: backfill --level daily rebuilds from them$/);
    const [older] = refusedRanges([hour('2026-11-10T05:00:00Z', ['daily', 'monthly'])], NOW, DEFAULT_RETENTION);
    expect(older).toMatchObject({ rebuildFrom: 'daily' });
    expect(older!.message).toMatch(/were pruned .*; the daily rows still hold it: backfill --level monthly rebuilds from them$/);
  });

  it('says every level is past retention when the range is older than the monthly rows are kept', () => {
    const [range] = refusedRanges([hour('2020-01-10T05:00:00Z', [])], NOW, DEFAULT_RETENTION);
    expect(range!.message).toMatch(/were pruned on shard 0 \(kept 48 h\); every level is past its retention there, so nothing holds it any more$/);
  });

  it('reads which levels hold a window from the windows each level holds on its shards', () => {
    const held = new Map<RollupLevel, Map<number, Set<number>>>([
      ['hourly', new Map([[0, new Set<number>()], [1, new Set([t('2026-11-10T05:00:00Z').getTime()])]])],
      ['daily', new Map([[0, new Set([t('2026-11-10T00:00:00Z').getTime()])]])],
      ['monthly', new Map([[0, new Set([t('2026-11-01T00:00:00Z').getTime()])]])],
    ]);
    expect(levelsHolding({ level: 'hourly', start: t('2026-11-10T05:00:00Z') }, [0], held)).toEqual(['daily', 'monthly']);
    expect(levelsHolding({ level: 'hourly', start: t('2026-11-10T05:00:00Z') }, [1], held)).toEqual(['hourly']);
    expect(levelsHolding({ level: 'hourly', start: t('2026-11-11T05:00:00Z') }, [0], held)).toEqual(['monthly']);
  });

  it('prints the refusal in the plan', () => {
    const refused = refusedRanges([hour('2026-11-10T05:00:00Z', [])], NOW, DEFAULT_RETENTION);
    const text = formatBackfillPlan({
      level: 'hourly', from: '2026-11-10T05:00:00.000Z', to: '2026-11-10T06:00:00.000Z', shards: [0], cascade: false, windows: [], refused,
      estimates: {}, estimatedSourceRows: 0, estimatedMs: 0, problems: [],
    });
    expect(text).toContain('REFUSED hourly 2026-11-10T05:00Z → 2026-11-10T06:00Z: there are no rows for');
  });
});
