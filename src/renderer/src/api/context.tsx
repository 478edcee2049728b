import { createContext, use, type ReactNode } from 'react';
import type { StrataApi } from '../../../shared/api';

const StrataApiContext = createContext<StrataApi | undefined>(undefined);

export function StrataApiProvider({ api, children }: { api: StrataApi; children: ReactNode }) {
  return <StrataApiContext value={api}>{children}</StrataApiContext>;
}

/** The API of whichever host the page runs in (Electron preload or test web host). */
export function useStrataApi(): StrataApi {
  const api = use(StrataApiContext);
  if (!api) throw new Error('useStrataApi needs a StrataApiProvider above it');
  return api;
}
