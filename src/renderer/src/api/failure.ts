import type { Result } from '../../../shared/result';
import { describeErrorCode } from '../errors';

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

/** A heading and a sentence for a failed query; anything that is not an API failure is a bug in the console. */
export function failureText(error: Error, what: string): { title: string; message: string } {
  if (error instanceof ApiFailure) return { title: describeErrorCode(error.code), message: error.message };
  return { title: 'Internal error', message: `the console could not read ${what}` };
}
