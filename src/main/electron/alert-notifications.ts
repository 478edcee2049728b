import type { AlertList, AlertState } from '../../shared/alerts';
import type { ScopedLogger } from '../log';

/** What the desktop app needs of Electron's Notification: made and shown, when the system supports it. */
export interface SystemNotifier {
  isSupported(): boolean;
  show(notice: { title: string; body: string }): void;
}

function episodeKey(alert: AlertState): string {
  return `${alert.rule}|${alert.scope.key}|${alert.firedAt ?? alert.since}`;
}

/**
 * The alerts of a list that began firing since the last list, unsilenced; `seen` remembers every firing episode
 * (the same alert firing again later is a new episode). The first list only fills `seen`: what was firing when the
 * app started is on the Alerts page and in the sidebar count, not announced again.
 */
export function newlyFiring(seen: { keys?: Set<string> }, list: AlertList): AlertState[] {
  const firing = list.alerts.filter((alert) => alert.state === 'firing');
  if (!seen.keys) {
    seen.keys = new Set(firing.map(episodeKey));
    return [];
  }
  const known = seen.keys;
  const fresh = firing.filter((alert) => !known.has(episodeKey(alert)) && !alert.silence);
  for (const alert of firing) known.add(episodeKey(alert));
  return fresh;
}

/** Between reads of the alert list when another process (an agent) evaluates the rules. */
const POLL_MS = 30_000;

interface AlertSource {
  onChange(listener: (list: AlertList) => void): () => void;
  list(request: { includeResolved: boolean }): Promise<AlertList>;
}

/**
 * A system notification for each alert that starts firing; returns the unsubscribe. Changes are heard at once
 * when this app holds the scheduler lease (it evaluates), and read every 30 s otherwise, since an agent elsewhere
 * may be the one evaluating.
 */
export function notifyFiringAlerts(alerts: AlertSource, notifier: SystemNotifier, log: ScopedLogger, pollMs = POLL_MS): () => void {
  const seen: { keys?: Set<string> } = {};
  const announce = (list: AlertList) => {
    const fresh = newlyFiring(seen, list);
    if (fresh.length === 0 || !notifier.isSupported()) return;
    for (const alert of fresh) {
      try {
        notifier.show({ title: `Strata: ${alert.severity} ${alert.rule} firing (${alert.scope.key})`, body: alert.message });
      } catch (error) {
        log.warn('could not show the alert notification', error);
      }
    }
  };
  const unsubscribe = alerts.onChange(announce);
  const timer = setInterval(() => {
    alerts.list({ includeResolved: false }).then(announce, (error: unknown) => log.debug('could not read the alerts for notifications', error));
  }, pollMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    unsubscribe();
  };
}
