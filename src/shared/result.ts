import { z } from 'zod';
import { ErrorCode, isStrataError, type ErrorCodeValue } from './errors';

/** What every IPC call returns: errors are values, because thrown errors lose their fields across IPC. */
export type Result<T> = { ok: true; data: T } | { ok: false; code: number; message: string };

export const failureSchema = z.object({ ok: z.literal(false), code: z.number().int(), message: z.string() });

export function resultSchema<T extends z.ZodType>(data: T) {
  return z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), data }), failureSchema]);
}

export function ok<T>(data: T): Result<T> {
  return { ok: true, data };
}

export function fail(code: ErrorCodeValue, message: string): Result<never> {
  return { ok: false, code, message };
}

/** Turns any thrown value into a failure; unknown errors get a generic message (their detail goes to the log). */
export function toFailure(error: unknown): { ok: false; code: number; message: string } {
  if (isStrataError(error)) return { ok: false, code: error.code, message: error.message };
  return { ok: false, code: ErrorCode.Internal, message: 'Internal error; see the log for details.' };
}
