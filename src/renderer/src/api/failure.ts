import type { Result } from '../../../shared/result';

/** A failed call as a thrown value, so TanStack Query can hold it as the query's error. */
export class ApiFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.data;
  throw new ApiFailure(result.code, result.message);
}
