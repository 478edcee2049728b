import { createInterface } from 'node:readline/promises';
import { z } from 'zod';
import { StrataError, type ErrorCodeValue } from '../shared/errors';

/** Exit code of a run stopped with Ctrl-C, as shells report SIGINT. */
export const EXIT_CANCELLED = 130;

const isoUtc = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

export const formatCount = (value: number) => value.toLocaleString('en-US');

/** Window bounds without the noise of zero seconds: 2026-11-25T10:00Z. */
export const shortTime = (text: string) => text.replace(':00.000Z', 'Z');

/** Parses a --from/--to value: ISO-8601 and in UTC, or a clear error with the caller's code. */
export function parseUtcOption(name: string, text: string, code: ErrorCodeValue): Date {
  if (!isoUtc.safeParse(text).success) {
    throw new StrataError(code, `--${name} must be an ISO-8601 UTC time such as 2025-03-01T00:00:00Z, got '${text}'`);
  }
  const offset = /([+-]\d{2}:?\d{2})$/.exec(text)?.[1];
  if (offset && !/^[+-]00:?00$/.test(offset)) throw new StrataError(code, `--${name} must be in UTC (end in Z), got '${text}'`);
  return new Date(text);
}

/**
 * Asks on the terminal before something destructive: only typing `expected` goes on; anything else declines, and
 * Ctrl-C at the prompt interrupts. Callers check for a terminal first (without one, only --yes goes on).
 */
export async function askToType(question: string, expected: string): Promise<'confirmed' | 'declined' | 'interrupted'> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  const interrupt = new AbortController();
  prompt.on('SIGINT', () => interrupt.abort());
  try {
    const answer = await prompt.question(`${question} Type ${expected} to go on: `, { signal: interrupt.signal });
    return answer.trim() === expected ? 'confirmed' : 'declined';
  } catch {
    return 'interrupted';
  } finally {
    prompt.close();
  }
}
