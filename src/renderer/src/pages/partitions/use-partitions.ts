import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useState } from 'react';
import type {
  ConversionEvent,
  ConversionPlanRequest,
  ConversionRunRequest,
  PartitionApplyEvent,
  PartitionApplyRequest,
  ShardConversionResult,
  ShardPartitionApplyResult,
} from '../../../../shared/partitions';
import { useStrataApi } from '../../api/context';
import { unwrap } from '../../api/failure';

const PARTITIONS_KEY = ['partitions:list'] as const;
/** Partitions change once an hour at most; the estimates are re-read now and then, exact counts only when asked. */
export const PARTITIONS_POLL_MS = 30_000;

export function usePartitionList(exact: boolean) {
  const api = useStrataApi();
  return useQuery({
    queryKey: [...PARTITIONS_KEY, exact],
    queryFn: async () => unwrap(await api.partitions.list({ exact })),
    // Exact counts read every row of every partition: never on a timer, or whenever the window gets focus.
    refetchInterval: exact ? false : PARTITIONS_POLL_MS,
    refetchOnWindowFocus: !exact,
    placeholderData: keepPreviousData,
    retry: false,
  });
}

export function usePlanPartitions() {
  const api = useStrataApi();
  return useMutation({ mutationFn: async () => unwrap(await api.partitions.plan()) });
}

export function useApplyPartitions() {
  const api = useStrataApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (request: PartitionApplyRequest) => unwrap(await api.partitions.apply(request)),
    onSettled: () => queryClient.invalidateQueries({ queryKey: PARTITIONS_KEY }),
  });
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

/** Every apply event this host sends, per shard, and how many arrived; `reset` clears them before a new apply. */
export function usePartitionProgress() {
  const api = useStrataApi();
  const [state, setState] = useState<{ byShard: ReadonlyMap<number, ShardApplyProgress>; received: number }>({ byShard: new Map(), received: 0 });
  useEffect(() => api.partitions.onProgress((event) => setState((previous) => ({ byShard: applyEvent(previous.byShard, event), received: previous.received + 1 }))), [api]);
  const reset = useCallback(() => setState({ byShard: new Map(), received: 0 }), []);
  return { ...state, reset };
}

export function useConversionPlan() {
  const api = useStrataApi();
  return useMutation({ mutationFn: async (request: ConversionPlanRequest) => unwrap(await api.partitions.convertPlan(request)) });
}

export function useConvertTable() {
  const api = useStrataApi();
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: async (request: ConversionRunRequest) => unwrap(await api.partitions.convert(request)),
    onSettled: () => queryClient.invalidateQueries({ queryKey: PARTITIONS_KEY }),
  });
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
  const api = useStrataApi();
  const [state, setState] = useState<{ byShard: ReadonlyMap<number, ShardConversionProgress>; received: number }>({ byShard: new Map(), received: 0 });
  useEffect(
    () =>
      api.partitions.onConvertProgress((event) => {
        if (event.table === table) setState((previous) => ({ byShard: conversionEvent(previous.byShard, event), received: previous.received + 1 }));
      }),
    [api, table],
  );
  const reset = useCallback(() => setState({ byShard: new Map(), received: 0 }), []);
  return { ...state, reset };
}
