import { createStrataApi, type Invoke, type StrataApi, type Subscribe } from '../../../shared/api';
import { events, type EventName } from '../../../shared/contract';
import { ErrorCode } from '../../../shared/errors';
import type { Result } from '../../../shared/result';

/** Must match TOKEN_META_NAME and TOKEN_HEADER in src/main/webhost/access.ts (the renderer cannot import main). */
const TOKEN_META_NAME = 'strata-web-token';
const TOKEN_HEADER = 'X-Strata-Token';

function isResult(value: unknown): value is Result<never> {
  return typeof value === 'object' && value !== null && typeof (value as { ok?: unknown }).ok === 'boolean';
}

/** The browser's stand-in for the preload: the same calls, carried by fetch to the test web host. */
export function createFetchInvoke(token: string, fetchImpl: typeof fetch = fetch): Invoke {
  return async (channel, request) => {
    let response: Response;
    try {
      response = await fetchImpl(`/api/${encodeURIComponent(channel)}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', [TOKEN_HEADER]: token },
        body: JSON.stringify(request),
        credentials: 'same-origin',
      });
    } catch {
      return { ok: false, code: ErrorCode.Internal, message: 'the Strata web host is not answering; is strata console still running?' };
    }
    if (response.status === 401) {
      return { ok: false, code: ErrorCode.ForbiddenSender, message: 'this page is no longer signed in; open the URL that strata console printed' };
    }
    const body: unknown = await response.json().catch(() => undefined);
    if (!isResult(body)) return { ok: false, code: ErrorCode.Internal, message: `the Strata web host sent an unexpected answer (HTTP ${response.status})` };
    return body;
  };
}

/**
 * The browser's stand-in for ipcRenderer.on: one EventSource on the web host's `/events` stream (Server-Sent
 * Events), opened with the first listener and closed with the last. The cookie authenticates it, since an
 * EventSource cannot send the token header. Payloads are checked against the contract before any listener sees them.
 */
export function createEventSourceSubscribe(open: () => EventSource = () => new EventSource('/events')): Subscribe {
  let source: EventSource | undefined;
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  const total = () => [...listeners.values()].reduce((sum, set) => sum + set.size, 0);
  const deliver = (event: EventName) => (message: MessageEvent<string>) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message.data);
    } catch {
      return;
    }
    const checked = events[event].safeParse(parsed);
    if (!checked.success) return;
    for (const listener of listeners.get(event) ?? []) listener(checked.data);
  };
  const handlers = new Map<EventName, (message: MessageEvent<string>) => void>();
  return (event, listener) => {
    source ??= open();
    if (!handlers.has(event)) {
      const handler = deliver(event);
      handlers.set(event, handler);
      source.addEventListener(event, handler);
    }
    const set = listeners.get(event) ?? new Set();
    const untyped = listener as (payload: unknown) => void;
    set.add(untyped);
    listeners.set(event, set);
    return () => {
      set.delete(untyped);
      if (total() === 0 && source) {
        source.close();
        source = undefined;
        handlers.clear();
      }
    };
  };
}

/** The API from the Electron preload, else from the token the web host put in the page, else none. */
export function findStrataApi(): StrataApi | undefined {
  if (window.strata) return window.strata;
  const token = document.querySelector<HTMLMetaElement>(`meta[name="${TOKEN_META_NAME}"]`)?.content;
  return token ? createStrataApi(createFetchInvoke(token), createEventSourceSubscribe()) : undefined;
}
