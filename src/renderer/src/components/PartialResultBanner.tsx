import { Alert, Stack } from '@mantine/core';
import type { Problem } from '../../../shared/problem';
import { ProblemLine } from './ProblemLine';

/** A shard whose part of a multi-shard answer is missing, and why. */
export interface MissingShard {
  shardName: string;
  problem?: Problem;
}

interface PartialResultBannerProps {
  /** The shards that could not be read; the banner shows nothing when there are none. */
  missing: readonly MissingShard[];
  /** What the page shows without them: "the run history", "the partitions". */
  what: string;
  testId?: string;
}

/**
 * Says that what a page shows lacks some shards, naming each with its reason, so a page that reads several shards
 * never passes off the others' rows as the whole cluster's.
 */
export function PartialResultBanner({ missing, what, testId = 'partial-result' }: PartialResultBannerProps) {
  if (missing.length === 0) return null;
  const names = missing.map((shard) => shard.shardName).join(', ');
  return (
    <Alert
      data-testid={testId}
      data-missing={names}
      color="orange"
      variant="light"
      radius="md"
      title={`Partial result: ${names} could not be read; ${what} below leaves ${missing.length === 1 ? 'it' : 'them'} out`}
    >
      <Stack gap={2}>
        {missing.map((shard) => (
          <ProblemLine key={shard.shardName} problem={shard.problem} missing={`${shard.shardName} did not answer`} size="xs" color="orange.3" />
        ))}
      </Stack>
    </Alert>
  );
}

/**
 * The shards of a per-shard answer that did not answer, once each: rows marked `reachable: false`, or rows with a
 * `problem` where the answer has no `reachable` flag (watermarks, rollup plans).
 */
export function unreachableShards(rows: ReadonlyArray<{ name?: string; shardName?: string; reachable?: boolean; problem?: Problem }>): MissingShard[] {
  const missing = new Map<string, MissingShard>();
  for (const row of rows) {
    const down = row.reachable === undefined ? row.problem !== undefined : !row.reachable;
    const shardName = row.shardName ?? row.name ?? 'a shard';
    if (down && !missing.has(shardName)) missing.set(shardName, { shardName, problem: row.problem });
  }
  return [...missing.values()];
}
