import { useSyncExternalStore } from 'react';
import type { ConsolePage } from '../pages';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

export function pageHref(page: ConsolePage): string {
  return `#/${page.id}`;
}

/** The page named in the address fragment (so a reload stays put), else the first page. */
export function usePageRoute(pages: readonly [ConsolePage, ...ConsolePage[]]): ConsolePage {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  return pages.find((page) => pageHref(page) === hash) ?? pages[0];
}
