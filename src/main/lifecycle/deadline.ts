/**
 * Settles with `work`, or rejects with `expired()` once `timeoutMs` has passed; `work` may then settle late or
 * never (a dead socket), so its late rejection is swallowed.
 */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number, expired: () => Error): Promise<T> {
  work.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(expired()), timeoutMs);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
