import type { StrataApi } from '../../shared/api';

declare global {
  interface Window {
    /** Set by the Electron preload; absent in a plain browser, where the web bridge stands in. */
    readonly strata?: StrataApi;
  }
}
