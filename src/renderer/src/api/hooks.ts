import { useMutation, useQuery, useQueryClient, type QueryKey, type UseMutationOptions, type UseQueryOptions } from '@tanstack/react-query';
import { useCallback, useEffect, useState } from 'react';
import type { StrataApi, Unsubscribe } from '../../../shared/api';
import type { Result } from '../../../shared/result';
import { useStrataApi } from './context';
import { unwrap } from './failure';

type QueryOptions<T> = Omit<UseQueryOptions<T, Error, T, QueryKey>, 'queryKey' | 'queryFn'>;

/**
 * A query answered by one API call: `useChannelQuery(['cluster:status'], (api) => api.cluster.status(), { refetchInterval })`.
 * A failed call becomes the query's error (an ApiFailure with its code); defaults such as retries live where the
 * QueryClient is made (api/query-client.ts).
 */
export function useChannelQuery<T>(queryKey: QueryKey, call: (api: StrataApi) => Promise<Result<T>>, options: QueryOptions<T> = {}) {
  const api = useStrataApi();
  return useQuery({ ...options, queryKey, queryFn: async () => unwrap(await call(api)) });
}

type MutationOptions<T, R> = Omit<UseMutationOptions<T, Error, R>, 'mutationFn'> & {
  /** Queries to re-read once the call settled, whether it succeeded or not (the call may have changed part of the state). */
  invalidates?: QueryKey;
};

/** A mutation answered by one API call: `useChannelMutation((api, request: R) => api.backfill.start(request), { invalidates })`. */
export function useChannelMutation<R, T>(call: (api: StrataApi, request: R) => Promise<Result<T>>, { invalidates, ...options }: MutationOptions<T, R> = {}) {
  const api = useStrataApi();
  const queryClient = useQueryClient();
  return useMutation({
    ...options,
    mutationFn: async (request: R) => unwrap(await call(api, request)),
    onSettled: async (...args) => {
      if (invalidates) await queryClient.invalidateQueries({ queryKey: invalidates });
      await options.onSettled?.(...args);
    },
  });
}

/** What an event hook holds: the state the events built, how many arrived, and `reset` to start afresh. */
export interface EventState<S> {
  state: S;
  received: number;
  reset(): void;
}

/**
 * State built from a stream of events: `subscribe(api, listener)` opens the stream (and returns its unsubscribe),
 * `reduce` folds each event into the state, which starts as `initial()`. An event `reduce` answers `undefined` for
 * is ignored (not counted). Re-subscribes when `deps` change, keeping what was received.
 */
export function useEventState<E, S>(
  subscribe: (api: StrataApi, listener: (event: E) => void) => Unsubscribe,
  reduce: (state: S, event: E) => S | undefined,
  initial: () => S,
  deps: readonly unknown[] = [],
): EventState<S> {
  const api = useStrataApi();
  const [held, setHeld] = useState(() => ({ state: initial(), received: 0 }));
  useEffect(
    () =>
      subscribe(api, (event) =>
        setHeld((previous) => {
          const state = reduce(previous.state, event);
          return state === undefined ? previous : { state, received: previous.received + 1 };
        }),
      ),
    // Callers pass module-level functions; only the API and the declared dependencies re-subscribe.
    [api, ...deps],
  );
  const reset = useCallback(() => setHeld({ state: initial(), received: 0 }), [initial]);
  return { ...held, reset };
}
