import { channels, events, isChannelName, type ChannelName, type ChannelRequest, type ChannelResponse, type EventName } from '../../shared/contract';
import { ErrorCode } from '../../shared/errors';
import { toFailure, type Result } from '../../shared/result';
import type { ScopedLogger } from '../log';
import type { StrataServices } from '../services';

export type Handlers = { [C in ChannelName]: (request: ChannelRequest<C>) => Promise<ChannelResponse<C>> };

/** Binds every contract channel to the services; a missing channel is a type error here. */
export function createHandlers(services: StrataServices): Handlers {
  return {
    'cluster:status': () => services.status.get(),
    'schema:check': () => services.schema.check(),
    'schedules:list': () => services.scheduler.list(),
    'schedules:set': (request) => services.scheduler.set(request),
    'lease:status': () => services.lease.status(),
    'rollup:runs': (request) => services.rollup.runHistory(request),
    'rollup:watermarks': () => services.rollup.watermarks(),
    'backfill:plan': (request) => services.backfill.plan(request),
    'backfill:start': async (request) => (await services.backfill.start(request)).record,
    'backfill:cancel': (request) => services.backfill.cancel(request.id),
    'backfill:resume': async (request) => (await services.backfill.resume(request.id)).record,
    'backfill:list': (request) => services.backfill.list(request.limit),
    'partitions:list': (request) => services.partitions.list(request),
    'partitions:plan': () => services.partitions.plan(),
    'partitions:apply': (request) => services.partitions.apply({ shards: request.shards }),
    'partitions:convertPlan': (request) => services.conversion.plan(request),
    'partitions:convert': ({ table, shards }) => services.conversion.convert({ table, shards }),
    'retention:get': () => services.retention.policy(),
    'retention:set': (request) => services.retention.setPolicy(request),
    'retention:plan': (request) => services.retention.plan(request),
    'retention:prune': ({ shards, tables }) => services.retention.prune({ shards, tables, trigger: 'manual' }),
    'retention:runs': (request) => services.retention.runHistory(request.limit),
    'audit:list': (request) => services.state.audit.list(request),
    'reconcile:plan': (request) => services.reconcile.plan(request),
    'reconcile:run': ({ from, to, shards }) => services.reconcile.runManually({ from, to, shards }),
    'reconcile:runs': (request) => services.reconcile.runs(request.limit),
    'backup:plan': (request) => services.backup.plan(request),
    'backup:run': async ({ shards, tables, includeRaw, dest }) => (await services.backup.start({ shards, tables, includeRaw, dest })).record,
    'backup:list': (request) => services.backup.list(request.limit),
    'backup:cancel': (request) => services.backup.cancel(request.id),
    'backup:verify': (request) => services.backup.verify(request),
    'backup:restore': (request) => services.backup.restore(request),
    'backup:retention': () => services.backupRetention.policy(),
    'monitor:snapshot': () => services.monitor.snapshot(),
    'monitor:series': (request) => services.monitor.series(request),
    'monitor:advise': () => services.advisor.advise(),
    'traffic:chart': (request) => services.traffic.chart(request),
    'traffic:sites': (request) => services.traffic.sites(request),
    'alerts:list': (request) => services.alerts.list(request),
    'alerts:history': (request) => services.alerts.history(request),
    'alerts:rules': () => services.alerts.rules(),
    'alerts:setRule': (request) => services.alerts.setRule(request),
    'alerts:silence': (request) => services.alerts.silence(request),
    'alerts:unsilence': (request) => services.alerts.unsilence(request),
    'alerts:ack': (request) => services.alerts.ack(request),
    'alerts:deliveries': (request) => services.alerts.deliveries(request),
    'alerts:testWebhook': () => services.alerts.testWebhook(),
    'alerts:check': () => services.alerts.check(),
    'cache:stats': () => services.cache.stats(),
    'cache:keys': (request) => services.cache.keys(request),
    'cache:invalidate': (request) => services.cache.invalidate(request),
    'cache:invalidations': (request) => services.cache.invalidations(request.limit),
  };
}

/** Hands one validated event to a host's transport (webContents.send, a Server-Sent Events stream). */
export type DeliverEvent = (event: EventName, payload: unknown) => void;

/**
 * Connects every contract event of the services to a host's transport, and returns the function that disconnects
 * them. Each payload is checked against its schema first: a malformed event is logged and never sent.
 */
export function forwardEvents(services: Pick<StrataServices, 'backfill' | 'partitions' | 'conversion' | 'retention' | 'backup' | 'monitor' | 'alerts'>, deliver: DeliverEvent, log: ScopedLogger): () => void {
  const send = (event: EventName, payload: unknown) => {
    const checked = events[event].safeParse(payload);
    if (!checked.success) {
      log.error(`refused to send a malformed ${event} event`, checked.error.message);
      return;
    }
    try {
      deliver(event, checked.data);
    } catch (error) {
      log.warn(`could not deliver a ${event} event`, error);
    }
  };
  const unsubscribes = [
    services.backfill.onProgress((progress) => send('backfill:onProgress', progress)),
    services.partitions.onProgress((event) => send('partitions:onProgress', event)),
    services.conversion.onProgress((event) => send('partitions:onConvertProgress', event)),
    services.retention.onProgress((progress) => send('retention:onProgress', progress)),
    services.backup.onProgress((progress) => send('backup:onProgress', progress)),
    services.backup.onVerifyProgress((progress) => send('backup:onVerifyProgress', progress)),
    services.monitor.onCycle((snapshot) => send('monitor:onCycle', snapshot)),
    services.alerts.onChange((list) => send('alerts:onChange', list)),
  ];
  return () => {
    for (const unsubscribe of unsubscribes) unsubscribe();
  };
}

/**
 * Validates a raw payload against the channel's schema, runs the handler and returns a Result.
 * Every host calls this and nothing else, so validation and error mapping live in one place.
 */
export async function dispatch(handlers: Handlers, channel: string, payload: unknown, log: ScopedLogger): Promise<Result<unknown>> {
  if (!isChannelName(channel)) return { ok: false, code: ErrorCode.UnknownChannel, message: `unknown channel ${channel}` };
  const spec = channels[channel];
  const parsed = spec.request.safeParse(payload ?? {});
  if (!parsed.success) {
    const detail = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(request)'}: ${issue.message}`).join('; ');
    return { ok: false, code: ErrorCode.InvalidInput, message: `invalid request for ${channel}: ${detail}` };
  }
  try {
    const handler = handlers[channel] as (request: unknown) => Promise<unknown>;
    const data = await handler(parsed.data);
    return { ok: true, data: spec.response.parse(data) };
  } catch (error) {
    log.error(`${channel} failed`, error);
    return toFailure(error);
  }
}
