import { describe, expect, it } from 'vitest';
import { formatLeaseStatus } from '../../src/cli/commands/lease';
import { newLeaseIdentity, parseLeaseValue } from '../../src/main/lease/lease';

describe('lease values', () => {
  it('name the holder: host, pid, a random id, when it was taken and its fencing token', () => {
    const value = JSON.stringify({ id: 'a1b2c3', host: 'ops1', pid: 4242, acquiredAt: '2025-03-01T10:00:00.000Z', token: 17 });
    expect(parseLeaseValue(value)).toEqual({ id: 'a1b2c3', host: 'ops1', pid: 4242, acquiredAt: '2025-03-01T10:00:00.000Z', token: 17 });
  });

  it('that no Strata scheduler wrote are not mistaken for a holder', () => {
    expect(parseLeaseValue('locked-by-cron')).toBeUndefined();
    expect(parseLeaseValue('{"host":"ops1"}')).toBeUndefined();
    expect(parseLeaseValue(null)).toBeUndefined();
  });

  it('get a fresh random id per scheduler, so two on one host are told apart', () => {
    const [a, b] = [newLeaseIdentity(), newLeaseIdentity()];
    expect(a.id).toMatch(/^[0-9a-f]{12}$/);
    expect(a.id).not.toBe(b.id);
    expect(a.pid).toBe(process.pid);
  });
});

describe('strata lease', () => {
  it('names the holder and its token, or says the lease is free', () => {
    expect(
      formatLeaseStatus({
        key: 'strata:lease:scheduler',
        held: true,
        holder: { id: 'a1b2c3', host: 'ops1', pid: 4242, acquiredAt: '2025-03-01T10:00:00.000Z', token: 17 },
        expiresInMs: 21_500,
        lastToken: 17,
      }),
    ).toBe('strata:lease:scheduler: held by ops1 pid 4242 (id a1b2c3) since 2025-03-01T10:00:00.000Z, fencing token 17, lapses in 21.5 s unless renewed');
    expect(formatLeaseStatus({ key: 'strata:lease:scheduler', held: false, lastToken: 17 })).toBe('strata:lease:scheduler: free, no scheduler holds it (last fencing token 17)');
  });
});
