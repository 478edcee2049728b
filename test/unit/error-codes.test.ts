import { describe, expect, it } from 'vitest';
import { ERROR_RANGES, ErrorCode, errorDomain } from '../../src/shared/errors';

describe('error codes', () => {
  it('are unique, and each lies inside a declared domain range', () => {
    const codes = Object.values(ErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [name, code] of Object.entries(ErrorCode)) {
      expect(errorDomain(code), `${name} (${code}) is outside every range of ERROR_RANGES`).toBeDefined();
    }
  });

  it('keep retention apart from partitions and job conflicts with the scheduler', () => {
    expect(errorDomain(ErrorCode.RetentionInvalid)).toBe('retention');
    expect(errorDomain(ErrorCode.PruneFailed)).toBe('retention');
    expect(errorDomain(ErrorCode.ShardBusy)).toBe('scheduler');
    expect(errorDomain(ErrorCode.ConversionFailed)).toBe('partitions');
  });

  it('give every domain its own thousand, with backups, monitoring and traffic among them', () => {
    const starts = Object.values(ERROR_RANGES);
    expect(new Set(starts).size).toBe(starts.length);
    for (const start of starts) expect(start % 1000).toBe(0);
    expect(Object.keys(ERROR_RANGES)).toEqual(expect.arrayContaining(['backup', 'monitor', 'traffic', 'audit']));
  });
});
