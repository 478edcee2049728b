import { useEffect, useState } from 'react';

/** The current time, updated every `intervalMs`, for "checked 3 s ago" labels and lags that grow by themselves. */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
