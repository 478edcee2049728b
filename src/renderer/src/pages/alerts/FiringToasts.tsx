import { Anchor, Notification, Portal, Stack } from '@mantine/core';
import { useEffect, useRef, useState } from 'react';
import type { AlertList, AlertState } from '../../../../shared/alerts';

/** Long enough to read a line, short enough not to pile up during an incident. */
const TOAST_SHOWN_MS = 12_000;

interface Toast {
  key: string;
  alert: AlertState;
}

/** One firing episode: the same alert firing again later is a new episode and shows again. */
export function firingKey(alert: AlertState): string {
  return `${alert.rule}|${alert.scope.key}|${alert.firedAt ?? alert.since}`;
}

/**
 * In-page notices for alerts that start firing while the console is open (the browser console; the desktop app shows
 * a system notification from its main process instead). What was already firing when the page opened is not
 * announced again: the sidebar count and the Alerts page show it.
 */
export function FiringToasts({ list }: { list: AlertList | undefined }) {
  const seen = useRef<Set<string> | undefined>(undefined);
  const [toasts, setToasts] = useState<Toast[]>([]);
  useEffect(() => {
    if (!list) return;
    const firing = list.alerts.filter((alert) => alert.state === 'firing');
    if (!seen.current) {
      seen.current = new Set(firing.map(firingKey));
      return;
    }
    const known = seen.current;
    const fresh = firing.filter((alert) => !known.has(firingKey(alert)) && !alert.silence);
    for (const alert of firing) known.add(firingKey(alert));
    if (fresh.length > 0) setToasts((shown) => [...shown, ...fresh.map((alert) => ({ key: firingKey(alert), alert }))]);
  }, [list]);
  useEffect(() => {
    if (toasts.length === 0) return;
    const timer = setTimeout(() => setToasts((shown) => shown.slice(1)), TOAST_SHOWN_MS);
    return () => clearTimeout(timer);
  }, [toasts]);
  if (toasts.length === 0) return null;
  return (
    <Portal>
      <Stack gap="xs" style={{ position: 'fixed', right: 16, bottom: 16, zIndex: 400, width: 380 }} data-testid="firing-toasts">
        {toasts.map(({ key, alert }) => (
          <Notification
            key={key}
            color={alert.severity === 'critical' ? 'red' : 'orange'}
            title={`Firing: ${alert.rule} (${alert.scope.key})`}
            onClose={() => setToasts((shown) => shown.filter((toast) => toast.key !== key))}
            data-testid="firing-toast"
            withBorder
          >
            {alert.message}{' '}
            <Anchor href="#/alerts" size="sm">
              Open Alerts
            </Anchor>
          </Notification>
        ))}
      </Stack>
    </Portal>
  );
}
