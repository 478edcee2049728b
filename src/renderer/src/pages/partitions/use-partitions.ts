import { keepPreviousData } from '@tanstack/react-query';
import type {
  ConversionEvent,
  ConversionPlanRequest,
  ConversionRunRequest,
  PartitionApplyEvent,
  PartitionApplyRequest,
  ShardConversionResult,
  ShardPartitionApplyResult,
} from '../../../../shared/partitions';
import { useChannelMutation, useChannelQuery, useEventState } from '../../api/hooks';

const PARTITIONS_KEY = ['partitions:list'] as const;
/** Partitions change once an hour at most; the estimates are re-read now and then, exact counts only when asked. */
export const PARTITIONS_POLL_MS = 30_000;

export function usePartitionList(exact: boolean) {
  return useChannelQuery([...PARTITIONS_KEY, exact], (api) => api.partitions.list({ exact }), {
    // Exact counts read every row of every partition: never on a timer, or whenever the window gets focus.
    refetchInterval: exact ? false : PARTITIONS_POLL_MS,
    refetchOnWindowFocus: !exact,
    placeholderData: keepPreviousData,
  });
}

export function usePlanPartitions() {
  return useChannelMutation((api, _request: void) => api.partitions.plan());
}

export function useApplyPartitions() {
  return useChannelMutation((api, request: PartitionApplyRequest) => api.partitions.apply(request), { invalidates: PARTITIONS_KEY });
}

/** What the events have said about one shard of an apply so far. */
export interface ShardApplyProgress {
  shard: number;
  shardName: string;
  /** Position of the statement running or last started, out of `total`. */
  position: number;
  total: number;
  finished: number;
  table?: string;
  sql?: string;
  failures: Array<{ table: string; message: string }>;
  result?: ShardPartitionApplyResult;
}

function applyEvent(previous: ReadonlyMap<number, ShardApplyProgress>, event: PartitionApplyEvent): Map<number, ShardApplyProgress> {
  const next = new Map(previous);
  const current = previous.get(event.shard) ?? { shard: event.shard, shardName: event.shardName, position: 0, total: 0, finished: 0, failures: [] };
  if (event.kind === 'statement-started') next.set(event.shard, { ...current, position: event.position, total: event.total, table: event.table, sql: event.sql });
  if (event.kind === 'statement-finished') {
    const failures = event.ok ? current.failures : [...current.failures, { table: event.table, message: event.message ?? 'failed' }];
    next.set(event.shard, { ...current, position: event.position, total: event.total, finished: current.finished + 1, failures });
  }
  if (event.kind === 'shard-finished') next.set(event.shard, { ...current, result: event.result, total: Math.max(current.total, event.result.statements.length) });
  return next;
}

const noShards = () => new Map();

/** Every apply event this host sends, per shard, and how many arrived; `reset` clears them before a new apply. */
export function usePartitionProgress() {
  const { state, received, reset } = useEventState<PartitionApplyEvent, ReadonlyMap<number, ShardApplyProgress>>(
    (api, listener) => api.partitions.onProgress(listener),
    applyEvent,
    noShards,
  );
  return { byShard: state, received, reset };
}

export function useConversionPlan() {
  return useChannelMutation((api, request: ConversionPlanRequest) => api.partitions.convertPlan(request));
}

export function useConvertTable() {
  return useChannelMutation((api, request: ConversionRunRequest) => api.partitions.convert(request), { invalidates: PARTITIONS_KEY });
}

/** What the events have said about one shard of a conversion so far. */
export interface ShardConversionProgress {
  shard: number;
  shardName: string;
  rowsBefore?: number;
  estimatedSeconds?: number;
  /** Null when the server does not report progress (MySQL). */
  percent: number | null;
  stage: string | null;
  elapsedMs: number;
  result?: ShardConversionResult;
}

function conversionEvent(previous: ReadonlyMap<number, ShardConversionProgress>, event: ConversionEvent): Map<number, ShardConversionProgress> {
  const next = new Map(previous);
  const current = previous.get(event.shard) ?? { shard: event.shard, shardName: event.shardName, percent: null, stage: null, elapsedMs: 0 };
  if (event.kind === 'shard-started') next.set(event.shard, { ...current, rowsBefore: event.rowsBefore, estimatedSeconds: event.estimatedSeconds });
  if (event.kind === 'progress') next.set(event.shard, { ...current, percent: event.percent, stage: event.stage, elapsedMs: event.elapsedMs });
  if (event.kind === 'shard-finished') next.set(event.shard, { ...current, result: event.result });
  return next;
}

/** Every conversion event this host sends for `table`, per shard; `reset` clears them before a new conversion. */
export function useConversionProgress(table: string | undefined) {
  const { state, received, reset } = useEventState<ConversionEvent, ReadonlyMap<number, ShardConversionProgress>>(
    (api, listener) => api.partitions.onConvertProgress(listener),
    (byShard, event) => (event.table === table ? conversionEvent(byShard, event) : undefined),
    noShards,
    [table],
  );
  return { byShard: state, received, reset };
}
