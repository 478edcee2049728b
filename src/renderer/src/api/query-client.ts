import { QueryClient } from '@tanstack/react-query';

/**
 * The console's one QueryClient and its defaults. No retries: every query polls anyway, and a retried failure would
 * only hide for a few seconds the error the page should show at once (a shard down, a refused change).
 */
export function createQueryClient(): QueryClient {
  return new QueryClient({ defaultOptions: { queries: { retry: false } } });
}
