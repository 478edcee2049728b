import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import type { AlertList, AlertRuleSetRequest, AlertSilenceRequest, AlertAckRequest } from '../../../../shared/alerts';
import { useStrataApi } from '../../api/context';
import { useChannelMutation, useChannelQuery } from '../../api/hooks';

export const ALERTS_POLL_MS = 5000;
export const HISTORY_LIMIT = 200;
export const DELIVERIES_LIMIT = 100;

const LIST_KEY = ['alerts:list'] as const;

/**
 * The alerts with their states: polled, and replaced at once by every change the alert service reports (an
 * evaluation, a silence, an ack), so the sidebar count and the page move together. `onChange` hears each new list.
 */
export function useAlertList(onChange?: (list: AlertList) => void) {
  const api = useStrataApi();
  const queryClient = useQueryClient();
  useEffect(
    () =>
      api.alerts.onChange((list) => {
        queryClient.setQueryData([...LIST_KEY], list);
        // The history and the deliveries grow with every evaluation that changed something.
        void queryClient.invalidateQueries({ queryKey: ['alerts:history'] });
        void queryClient.invalidateQueries({ queryKey: ['alerts:deliveries'] });
        onChange?.(list);
      }),
    [api, queryClient, onChange],
  );
  return useChannelQuery([...LIST_KEY], (strata) => strata.alerts.list({ includeResolved: true }), { refetchInterval: ALERTS_POLL_MS });
}

export function useAlertHistory() {
  return useChannelQuery(['alerts:history'], (api) => api.alerts.history({ limit: HISTORY_LIMIT }), { refetchInterval: ALERTS_POLL_MS });
}

export function useAlertDeliveries() {
  return useChannelQuery(['alerts:deliveries'], (api) => api.alerts.deliveries({ limit: DELIVERIES_LIMIT }), { refetchInterval: ALERTS_POLL_MS });
}

export function useRules() {
  return useChannelQuery(['alerts:rules'], (api) => api.alerts.rules(), { refetchInterval: 30_000 });
}

/** Every change re-reads the list (the states changed), and the rules for a rule edit. */
export function useSetRule() {
  return useChannelMutation((api, request: AlertRuleSetRequest) => api.alerts.setRule(request), { invalidates: ['alerts:rules'] });
}

export function useSilence() {
  return useChannelMutation((api, request: AlertSilenceRequest) => api.alerts.silence(request), { invalidates: LIST_KEY });
}

export function useUnsilence() {
  return useChannelMutation((api, id: number) => api.alerts.unsilence({ id }), { invalidates: LIST_KEY });
}

export function useAck() {
  return useChannelMutation((api, request: AlertAckRequest) => api.alerts.ack(request), { invalidates: LIST_KEY });
}

export function useTestWebhook() {
  return useChannelMutation((api, _request: void) => api.alerts.testWebhook());
}
