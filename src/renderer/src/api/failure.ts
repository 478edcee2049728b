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

/**
 * A heading and a sentence for a failed query; anything that is not an API failure is a bug in the console.
 * `line` is both as one line, with the heading said once when the message starts by repeating it
 * (`Invalid cron expression "x": …`, not `Invalid cron expression: invalid cron expression "x": …`).
 */
export function failureText(error: Error, what: string): { title: string; message: string; line: string } {
  if (error instanceof ApiFailure) return problemText({ code: error.code, message: error.message });
  const title = 'Internal error';
  const message = `the console could not read ${what}`;
  return { title, message, line: `${title}: ${message}` };
}

/** A coded problem as a heading, its message, and both as one line without saying the heading twice. */
export function problemText(problem: { code: number; message: string }): { title: string; message: string; line: string } {
  const title = describeErrorCode(problem.code);
  const repeats = problem.message.toLowerCase().startsWith(title.toLowerCase());
  return { title, message: problem.message, line: repeats ? `${title}${problem.message.slice(title.length)}` : `${title}: ${problem.message}` };
}
