import type { Problem } from '../../shared/problem';
import { toFailure } from '../../shared/result';

export type { Problem } from '../../shared/problem';

/** A thrown value as the `{ code, message }` a report carries per shard; unknown errors get the generic text. */
export function asProblem(error: unknown): Problem {
  const { code, message } = toFailure(error);
  return { code, message };
}
