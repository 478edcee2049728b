import type { ChannelName, ChannelRequest, ChannelResponse, EventName, EventPayload } from './contract';
import type { Result } from './result';

/** How a host carries one call: Electron's ipcRenderer.invoke in the preload, fetch in the test web host. */
export type Invoke = <C extends ChannelName>(channel: C, request: ChannelRequest<C>) => Promise<Result<ChannelResponse<C>>>;

/**
 * Stops an event subscription. Events from the main process are exposed as `onSomething(listener): Unsubscribe`
 * (for example `backup.onProgress(listener)`), never as a raw channel the page could listen on itself.
 */
export type Unsubscribe = () => void;

/** How a host delivers events: ipcRenderer.on/removeListener in the preload, an EventSource in the test web host. */
export type Subscribe = <E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void) => Unsubscribe;

/** The task-shaped API the renderer sees as `window.strata`; it never sees channels or ipcRenderer. */
export interface StrataApi {
  cluster: {
    status(): Promise<Result<ChannelResponse<'cluster:status'>>>;
  };
  schema: {
    /** Compares every shard with the schema this build expects; drift and unreachable shards are in the report. */
    check(): Promise<Result<ChannelResponse<'schema:check'>>>;
  };
  schedules: {
    /** Every job's cron, whether it is enabled, its next three runs and who last changed it. */
    list(): Promise<Result<ChannelResponse<'schedules:list'>>>;
    /** Changes a job's cron and/or enabled flag; an invalid cron expression is refused and nothing changes. */
    set(request: ChannelRequest<'schedules:set'>): Promise<Result<ChannelResponse<'schedules:set'>>>;
  };
  rollup: {
    /** The latest rollup windows run on any shard, newest first (level, window, outcome, rows, host, trigger). */
    runs(request: ChannelRequest<'rollup:runs'>): Promise<Result<ChannelResponse<'rollup:runs'>>>;
    /** Every shard's watermark of every level. */
    watermarks(): Promise<Result<ChannelResponse<'rollup:watermarks'>>>;
  };
  lease: {
    /** Who holds the cluster's scheduler lease, with which fencing token. */
    status(): Promise<Result<ChannelResponse<'lease:status'>>>;
  };
  backfill: {
    /** The dry run: windows with estimated rows and time, and the ranges refused because their source was pruned. */
    plan(request: ChannelRequest<'backfill:plan'>): Promise<Result<ChannelResponse<'backfill:plan'>>>;
    /** Starts a backfill in the main process and answers at once with its record; progress comes as events. */
    start(request: ChannelRequest<'backfill:start'>): Promise<Result<ChannelResponse<'backfill:start'>>>;
    /** Cancels a backfill this host runs: its current window rolls back and its state becomes `cancelled`. */
    cancel(request: ChannelRequest<'backfill:cancel'>): Promise<Result<ChannelResponse<'backfill:cancel'>>>;
    /** Continues an interrupted, cancelled or failed backfill from its next window. */
    resume(request: ChannelRequest<'backfill:resume'>): Promise<Result<ChannelResponse<'backfill:resume'>>>;
    /** Recent backfills, newest first. */
    list(request: ChannelRequest<'backfill:list'>): Promise<Result<ChannelResponse<'backfill:list'>>>;
    /** Every window started or finished by a backfill this host runs, and its end. */
    onProgress(listener: (progress: EventPayload<'backfill:onProgress'>) => void): Unsubscribe;
  };
  partitions: {
    /** Every shard's partitions of the analytics tables with ranges, rows (estimated, or exact) and warnings. */
    list(request: ChannelRequest<'partitions:list'>): Promise<Result<ChannelResponse<'partitions:list'>>>;
    /** The exact SQL per shard that keeps each table's future partitions ahead, with warnings. */
    plan(): Promise<Result<ChannelResponse<'partitions:plan'>>>;
    /** Runs that SQL on every shard (or the ones named); requires `confirm: true`. Progress comes as events. */
    apply(request: ChannelRequest<'partitions:apply'>): Promise<Result<ChannelResponse<'partitions:apply'>>>;
    /** Every statement started or finished by an apply this host runs, and each shard's result. */
    onProgress(listener: (event: EventPayload<'partitions:onProgress'>) => void): Unsubscribe;
    /** Size, estimated time, warnings and the exact ALTER that would convert an unpartitioned table, per shard; changes nothing. */
    convertPlan(request: ChannelRequest<'partitions:convertPlan'>): Promise<Result<ChannelResponse<'partitions:convertPlan'>>>;
    /** Converts the table on every shard (or the ones named), rows counted before and after; requires `confirm: true`. */
    convert(request: ChannelRequest<'partitions:convert'>): Promise<Result<ChannelResponse<'partitions:convert'>>>;
    /** Every shard started, ALTER progress reading and shard finished of a conversion this host runs. */
    onConvertProgress(listener: (event: EventPayload<'partitions:onConvertProgress'>) => void): Unsubscribe;
  };
  retention: {
    /** The retention policy stored in the cluster, its defaults, the minimum each value may take, who changed it. */
    get(): Promise<Result<ChannelResponse<'retention:get'>>>;
    /** Changes some settings; a retention shorter than the next level's rollup lag is refused and nothing changes. */
    set(request: ChannelRequest<'retention:set'>): Promise<Result<ChannelResponse<'retention:set'>>>;
    /** The dry run: per shard and table what would go (partitions, rows, bytes) and which windows are kept back, why. */
    plan(request: ChannelRequest<'retention:plan'>): Promise<Result<ChannelResponse<'retention:plan'>>>;
    /** Prunes now; requires `confirm: true`. Progress comes as events. */
    prune(request: ChannelRequest<'retention:prune'>): Promise<Result<ChannelResponse<'retention:prune'>>>;
    /** The latest prune and maintenance runs, newest first. */
    runs(request: ChannelRequest<'retention:runs'>): Promise<Result<ChannelResponse<'retention:runs'>>>;
    /** Every table started, partition drop, delete batch and table finished by a prune this host runs. */
    onProgress(listener: (progress: EventPayload<'retention:onProgress'>) => void): Unsubscribe;
  };
  audit: {
    /** Who did what, where and when on the cluster (every console, CLI and agent), newest first; filters by kind and time. */
    list(request: ChannelRequest<'audit:list'>): Promise<Result<ChannelResponse<'audit:list'>>>;
  };
  reconcile: {
    /** The dry run: per shard and level the windows checked and the ones whose page views differ, with both totals. */
    plan(request: ChannelRequest<'reconcile:plan'>): Promise<Result<ChannelResponse<'reconcile:plan'>>>;
    /** Re-rolls the differing windows and the levels above them; requires `confirm: true`. */
    run(request: ChannelRequest<'reconcile:run'>): Promise<Result<ChannelResponse<'reconcile:run'>>>;
    /** The latest reconciliations of every shard, newest first. */
    runs(request: ChannelRequest<'reconcile:runs'>): Promise<Result<ChannelResponse<'reconcile:runs'>>>;
  };
  backup: {
    /** The dry run: per shard the tables, estimated sizes and time, free space at the destination, the exact command. */
    plan(request: ChannelRequest<'backup:plan'>): Promise<Result<ChannelResponse<'backup:plan'>>>;
    /** Starts a backup set in the main process and answers at once with its catalog record; requires `confirm: true`. */
    run(request: ChannelRequest<'backup:run'>): Promise<Result<ChannelResponse<'backup:run'>>>;
    /** The catalog's sets, newest first, and per shard the age of the newest verified backup. */
    list(request: ChannelRequest<'backup:list'>): Promise<Result<ChannelResponse<'backup:list'>>>;
    /** Stops every dump of a set wherever it runs; partial files are removed and the set becomes cancelled. */
    cancel(request: ChannelRequest<'backup:cancel'>): Promise<Result<ChannelResponse<'backup:cancel'>>>;
    /** Checks each file's sha256, restores it into a scratch database and compares rows with the manifest. */
    verify(request: ChannelRequest<'backup:verify'>): Promise<Result<ChannelResponse<'backup:verify'>>>;
    /** Restores one shard's part, into a scratch database unless `replace`; requires `confirm: true`. */
    restore(request: ChannelRequest<'backup:restore'>): Promise<Result<ChannelResponse<'backup:restore'>>>;
    /** The stored retention of backup sets (newest N and/or D days), with who changed it last. */
    retention(): Promise<Result<ChannelResponse<'backup:retention'>>>;
    /** Per shard bytes written, tables done, MB/s and time left of a set this host runs, and its end. */
    onProgress(listener: (progress: EventPayload<'backup:onProgress'>) => void): Unsubscribe;
    /** Per part bytes loaded into the scratch database, MB/s and time left of a verification this host runs. */
    onVerifyProgress(listener: (progress: EventPayload<'backup:onVerifyProgress'>) => void): Unsubscribe;
  };
  monitor: {
    /** The latest probe cycle of the main process: every figure of every shard, Redis and the queue. */
    snapshot(): Promise<Result<ChannelResponse<'monitor:snapshot'>>>;
    /** Recorded samples over 1 h, 24 h or 7 d with p50/p95/p99. */
    series(request: ChannelRequest<'monitor:series'>): Promise<Result<ChannelResponse<'monitor:series'>>>;
    /** Each shard's settings, indexes and partitioning against the recommended my.cnf, with the fixing statement. */
    advise(): Promise<Result<ChannelResponse<'monitor:advise'>>>;
    onCycle(listener: (snapshot: EventPayload<'monitor:onCycle'>) => void): Unsubscribe;
  };
  traffic: {
    /** A chart of a site, the top sites or the cluster: the table read and why, provisional windows, totals, cache hit and age. */
    chart(request: ChannelRequest<'traffic:chart'>): Promise<Result<ChannelResponse<'traffic:chart'>>>;
    /** Sites for the picker: by id, else the busiest of the last 24 hours. */
    sites(request: ChannelRequest<'traffic:sites'>): Promise<Result<ChannelResponse<'traffic:sites'>>>;
  };
  alerts: {
    list(request: ChannelRequest<'alerts:list'>): Promise<Result<ChannelResponse<'alerts:list'>>>;
    history(request: ChannelRequest<'alerts:history'>): Promise<Result<ChannelResponse<'alerts:history'>>>;
    rules(): Promise<Result<ChannelResponse<'alerts:rules'>>>;
    setRule(request: ChannelRequest<'alerts:setRule'>): Promise<Result<ChannelResponse<'alerts:setRule'>>>;
    silence(request: ChannelRequest<'alerts:silence'>): Promise<Result<ChannelResponse<'alerts:silence'>>>;
    unsilence(request: ChannelRequest<'alerts:unsilence'>): Promise<Result<ChannelResponse<'alerts:unsilence'>>>;
    ack(request: ChannelRequest<'alerts:ack'>): Promise<Result<ChannelResponse<'alerts:ack'>>>;
    deliveries(request: ChannelRequest<'alerts:deliveries'>): Promise<Result<ChannelResponse<'alerts:deliveries'>>>;
    /** Sends a test message to the alert webhook and reports its answer. */
    testWebhook(): Promise<Result<ChannelResponse<'alerts:testWebhook'>>>;
    check(): Promise<Result<ChannelResponse<'alerts:check'>>>;
    /** The alert list after each evaluation by the lease holder. */
    onChange(listener: (list: EventPayload<'alerts:onChange'>) => void): Unsubscribe;
  };
  cache: {
    /** The application's cache: hit ratio, memory, evictions, keys per kind and site, Strata's recent invalidations. */
    stats(): Promise<Result<ChannelResponse<'cache:stats'>>>;
    /** The application's keys (of one site) with TTL and size. */
    keys(request: ChannelRequest<'cache:keys'>): Promise<Result<ChannelResponse<'cache:keys'>>>;
    /** Counts (dryRun) or deletes the keys of a site, a site's range, or all; a real one is audited. */
    invalidate(request: ChannelRequest<'cache:invalidate'>): Promise<Result<ChannelResponse<'cache:invalidate'>>>;
    /** Strata's invalidations, automatic (after which run) and manual, newest first. */
    invalidations(request: ChannelRequest<'cache:invalidations'>): Promise<Result<ChannelResponse<'cache:invalidations'>>>;
  };
}

export function createStrataApi(invoke: Invoke, subscribe: Subscribe): StrataApi {
  return {
    cluster: {
      status: () => invoke('cluster:status', {}),
    },
    schema: {
      check: () => invoke('schema:check', {}),
    },
    schedules: {
      list: () => invoke('schedules:list', {}),
      set: (request) => invoke('schedules:set', request),
    },
    rollup: {
      runs: (request) => invoke('rollup:runs', request),
      watermarks: () => invoke('rollup:watermarks', {}),
    },
    lease: {
      status: () => invoke('lease:status', {}),
    },
    backfill: {
      plan: (request) => invoke('backfill:plan', request),
      start: (request) => invoke('backfill:start', request),
      cancel: (request) => invoke('backfill:cancel', request),
      resume: (request) => invoke('backfill:resume', request),
      list: (request) => invoke('backfill:list', request),
      onProgress: (listener) => subscribe('backfill:onProgress', listener),
    },
    partitions: {
      list: (request) => invoke('partitions:list', request),
      plan: () => invoke('partitions:plan', {}),
      apply: (request) => invoke('partitions:apply', request),
      onProgress: (listener) => subscribe('partitions:onProgress', listener),
      convertPlan: (request) => invoke('partitions:convertPlan', request),
      convert: (request) => invoke('partitions:convert', request),
      onConvertProgress: (listener) => subscribe('partitions:onConvertProgress', listener),
    },
    retention: {
      get: () => invoke('retention:get', {}),
      set: (request) => invoke('retention:set', request),
      plan: (request) => invoke('retention:plan', request),
      prune: (request) => invoke('retention:prune', request),
      runs: (request) => invoke('retention:runs', request),
      onProgress: (listener) => subscribe('retention:onProgress', listener),
    },
    audit: {
      list: (request) => invoke('audit:list', request),
    },
    reconcile: {
      plan: (request) => invoke('reconcile:plan', request),
      run: (request) => invoke('reconcile:run', request),
      runs: (request) => invoke('reconcile:runs', request),
    },
    backup: {
      plan: (request) => invoke('backup:plan', request),
      run: (request) => invoke('backup:run', request),
      list: (request) => invoke('backup:list', request),
      cancel: (request) => invoke('backup:cancel', request),
      verify: (request) => invoke('backup:verify', request),
      restore: (request) => invoke('backup:restore', request),
      retention: () => invoke('backup:retention', {}),
      onProgress: (listener) => subscribe('backup:onProgress', listener),
      onVerifyProgress: (listener) => subscribe('backup:onVerifyProgress', listener),
    },
    monitor: {
      snapshot: () => invoke('monitor:snapshot', {}),
      series: (request) => invoke('monitor:series', request),
      advise: () => invoke('monitor:advise', {}),
      onCycle: (listener) => subscribe('monitor:onCycle', listener),
    },
    traffic: {
      chart: (request) => invoke('traffic:chart', request),
      sites: (request) => invoke('traffic:sites', request),
    },
    alerts: {
      list: (request) => invoke('alerts:list', request),
      history: (request) => invoke('alerts:history', request),
      rules: () => invoke('alerts:rules', {}),
      setRule: (request) => invoke('alerts:setRule', request),
      silence: (request) => invoke('alerts:silence', request),
      unsilence: (request) => invoke('alerts:unsilence', request),
      ack: (request) => invoke('alerts:ack', request),
      deliveries: (request) => invoke('alerts:deliveries', request),
      testWebhook: () => invoke('alerts:testWebhook', {}),
      check: () => invoke('alerts:check', {}),
      onChange: (listener) => subscribe('alerts:onChange', listener),
    },
    cache: {
      stats: () => invoke('cache:stats', {}),
      keys: (request) => invoke('cache:keys', request),
      invalidate: (request) => invoke('cache:invalidate', request),
      invalidations: (request) => invoke('cache:invalidations', request),
    },
  };
}
