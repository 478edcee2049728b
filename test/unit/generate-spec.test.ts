import { describe, expect, it } from 'vitest';
import { ErrorCode, StrataError } from '../../src/shared/errors';
import { parseGenerateRequest, type GenerateRequest } from '../../src/main/generate/spec';

const good: GenerateRequest = { from: '2025-03-01T00:00:00Z', to: '2025-03-02T00:00:00Z', sites: '100', views: '1000', seed: '42' };

function problem(request: Partial<GenerateRequest>): string {
  try {
    parseGenerateRequest({ ...good, ...request });
  } catch (error) {
    expect(error).toBeInstanceOf(StrataError);
    expect((error as StrataError).code).toBe(ErrorCode.GenerateInvalid);
    return (error as StrataError).message;
  }
  throw new Error('expected the request to be refused');
}

describe('generate request validation', () => {
  it('accepts UTC dates and times and whole-number strings from the command line', () => {
    const spec = parseGenerateRequest({ ...good, from: '2025-03-01', to: '2025-03-01T06:30:00.500+00:00' });
    expect(spec.from.toISOString()).toBe('2025-03-01T00:00:00.000Z');
    expect(spec.startSecond).toBe(Date.parse('2025-03-01T00:00:00Z') / 1000);
    // 06:30:00.500 is exclusive, so 06:30:00 is the last second a row can have.
    expect(spec.endSecond).toBe(Date.parse('2025-03-01T06:30:01Z') / 1000);
    expect([spec.sites, spec.views, spec.seed]).toEqual([100, 1000, 42]);
  });

  it('picks a seed when none is given, so the run can be reported and repeated', () => {
    const spec = parseGenerateRequest({ ...good, seed: undefined }, () => 31337);
    expect(spec.seed).toBe(31337);
  });

  it('refuses bad times with one line that names the option', () => {
    expect(problem({ from: 'yesterday' })).toMatch(/^--from must be an ISO-8601 UTC time/);
    expect(problem({ to: '2025-02-30' })).toMatch(/^--to must be an ISO-8601 UTC time/);
    expect(problem({ from: '2025-03-01T00:00:00+02:00' })).toMatch(/^--from must be in UTC/);
    expect(problem({ from: '2025-03-02T00:00:00Z' })).toMatch(/--from .* must be before --to/);
    expect(problem({ from: '2025-03-01T00:00:00.100Z', to: '2025-03-01T00:00:00.900Z' })).toMatch(/at least one whole second/);
    expect(problem({ to: '2040-01-01T00:00:00Z' })).toMatch(/TIMESTAMP range/);
    expect(problem({ from: '1969-12-31T00:00:00Z' })).toMatch(/TIMESTAMP range/);
  });

  it('refuses counts and seeds that are not whole numbers in range', () => {
    expect(problem({ sites: '0' })).toMatch(/^--sites must be a whole number from 1 to 1,000,000, got '0'/);
    expect(problem({ sites: 1_000_001 })).toMatch(/^--sites/);
    expect(problem({ views: '1e6' })).toMatch(/^--views must be a whole number/);
    expect(problem({ views: '12.5' })).toMatch(/^--views/);
    expect(problem({ views: 100_000_001 })).toMatch(/^--views/);
    expect(problem({ seed: '-1' })).toMatch(/^--seed/);
    expect(problem({ seed: 2 ** 32 })).toMatch(/^--seed/);
  });
});
