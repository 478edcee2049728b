import { z } from 'zod';
import { auditEntryRecordSchema, auditQuerySchema } from './audit';
import { cacheInvalidateRequestSchema, cacheInvalidationLogSchema, cacheInvalidationResultSchema, cacheInvalidationsRequestSchema, cacheKeysReportSchema, cacheKeysRequestSchema, cacheStatsSchema } from './cache';
import {
  backupIdRequestSchema,
  backupListRequestSchema,
  backupListSchema,
  backupPlanSchema,
  backupProgressSchema,
  backupRequestSchema,
  backupRestoreReportSchema,
  backupRestoreRequestSchema,
  backupRetentionEntrySchema,
  backupRunRequestSchema,
  backupSetRecordSchema,
  backupVerifyReportSchema,
  backupVerifyRequestSchema,
} from './backup';
import {
  backfillIdRequestSchema,
  backfillListRequestSchema,
  backfillPlanSchema,
  backfillProgressSchema,
  backfillRecordSchema,
  backfillRequestSchema,
} from './backfill';
import {
  conversionEventSchema,
  conversionPlanReportSchema,
  conversionPlanRequestSchema,
  conversionReportSchema,
  conversionRunRequestSchema,
  partitionApplyEventSchema,
  partitionApplyReportSchema,
  partitionApplyRequestSchema,
  partitionListReportSchema,
  partitionListRequestSchema,
  partitionPlanReportSchema,
} from './partitions';
import {
  maintenanceRunHistorySchema,
  maintenanceRunsRequestSchema,
  pruneProgressSchema,
  pruneReportSchema,
  pruneRequestSchema,
  pruneRunRequestSchema,
  retentionPolicyEntrySchema,
  retentionSetRequestSchema,
} from './retention';
import { reconcileReportSchema, reconcileRequestSchema, reconcileRunHistorySchema, reconcileRunRequestSchema, reconcileRunsRequestSchema } from './reconcile';
import { runHistorySchema, runsRequestSchema, watermarkRowSchema } from './rollup';
import {
  alertAckRequestSchema,
  alertDeliveriesRequestSchema,
  alertDeliverySchema,
  alertHistoryRequestSchema,
  alertListRequestSchema,
  alertListSchema,
  alertRuleSchema,
  alertRuleSetRequestSchema,
  alertSilenceRequestSchema,
  alertSilenceSchema,
  alertStateSchema,
  alertTransitionSchema,
  alertUnsilenceRequestSchema,
  checkReportSchema,
  webhookTestReportSchema,
} from './alerts';
import { adviceReportSchema, monitorSeriesReportSchema, monitorSeriesRequestSchema, monitorSnapshotSchema } from './monitor';
import { leaseStatusSchema, scheduleEntrySchema, scheduleListSchema, scheduleSetRequestSchema } from './schedule';
import { trafficAnswerSchema, trafficRequestSchema, trafficSitesRequestSchema, trafficSitesSchema } from './traffic';

/**
 * The whole IPC contract between the console and the main process (and the test web host).
 * Every channel is `domain:verb` with a zod request and response schema; types come from z.infer.
 * Hosts register handlers for exactly these channels, and the preload exposes them as typed functions.
 */

export const TABLE_NAMES = ['analytics_realtime', 'analytics_hourly', 'analytics_daily', 'analytics_monthly'] as const;

export const problemSchema = z.object({ code: z.number().int(), message: z.string() });

export const tableEstimateSchema = z.object({
  table: z.string(),
  estimatedRows: z.number().int().nonnegative(),
  dataBytes: z.number().int().nonnegative(),
  indexBytes: z.number().int().nonnegative(),
});

export const shardStatusSchema = z.object({
  index: z.number().int().nonnegative(),
  name: z.string(),
  host: z.string(),
  port: z.number().int(),
  database: z.string(),
  reachable: z.boolean(),
  problem: problemSchema.optional(),
  serverVersion: z.string().optional(),
  latencyMs: z.number().nonnegative().optional(),
  schemaVersion: z.number().int().nonnegative().optional(),
  /** The TLS protocol and cipher of Strata's session ("TLSv1.3 TLS_AES_256_GCM_SHA384"); absent when it is plain. */
  tls: z.string().optional(),
  tables: z.array(tableEstimateSchema),
});

export const redisStatusSchema = z.object({
  url: z.string(),
  reachable: z.boolean(),
  problem: problemSchema.optional(),
  serverVersion: z.string().optional(),
  latencyMs: z.number().nonnegative().optional(),
  usedMemoryBytes: z.number().int().nonnegative().optional(),
  /** The TLS protocol and cipher of the connection; absent when it is plain. */
  tls: z.string().optional(),
});

export const clusterStatusSchema = z.object({
  checkedAt: z.string(),
  profileName: z.string(),
  healthy: z.boolean(),
  /** Things that are reachable but outside the health targets (latency over 100 ms, for example). */
  warnings: z.array(z.string()),
  shards: z.array(shardStatusSchema),
  redis: redisStatusSchema,
});

/** Every way a shard can differ from the schema Strata expects; `strata schema check` reports them. */
export const SCHEMA_DRIFT_KINDS = [
  'migration-missing',
  'migration-unknown',
  'checksum-mismatch',
  'table-missing',
  'table-options',
  'column-missing',
  'column-extra',
  'column-type',
  'column-nullability',
  'index-missing',
  'index-different',
  'not-partitioned',
  'partitioning-different',
] as const;

export const schemaDriftSchema = z.object({
  kind: z.enum(SCHEMA_DRIFT_KINDS),
  /** Absent for differences in the migration records. */
  table: z.string().optional(),
  /** The column, index or migration version concerned. */
  subject: z.string().optional(),
  expected: z.string().optional(),
  actual: z.string().optional(),
  /** One line for people, naming the table and the difference. */
  message: z.string(),
});

export const shardSchemaCheckSchema = z.object({
  index: z.number().int().nonnegative(),
  name: z.string(),
  reachable: z.boolean(),
  problem: problemSchema.optional(),
  serverVersion: z.string().optional(),
  /** Highest applied migration; absent when none is recorded. */
  schemaVersion: z.number().int().nonnegative().optional(),
  drift: z.array(schemaDriftSchema),
});

export const schemaCheckReportSchema = z.object({
  checkedAt: z.string(),
  /** The latest migration this build of Strata knows. */
  expectedVersion: z.number().int().nonnegative(),
  /** True when every shard is reachable and has no drift. */
  clean: z.boolean(),
  shards: z.array(shardSchemaCheckSchema),
});

export const emptyRequest = z.object({}).strict();

/** Channel name → request and response schemas. Adding a channel here is the only way to add one. */
export const channels = {
  'cluster:status': { request: emptyRequest, response: clusterStatusSchema },
  'schema:check': { request: emptyRequest, response: schemaCheckReportSchema },
  'schedules:list': { request: emptyRequest, response: scheduleListSchema },
  'schedules:set': { request: scheduleSetRequestSchema, response: scheduleEntrySchema },
  'lease:status': { request: emptyRequest, response: leaseStatusSchema },
  'rollup:runs': { request: runsRequestSchema, response: runHistorySchema },
  'rollup:watermarks': { request: emptyRequest, response: z.array(watermarkRowSchema) },
  'backfill:plan': { request: backfillRequestSchema, response: backfillPlanSchema },
  'backfill:start': { request: backfillRequestSchema, response: backfillRecordSchema },
  'backfill:cancel': { request: backfillIdRequestSchema, response: backfillRecordSchema },
  'backfill:resume': { request: backfillIdRequestSchema, response: backfillRecordSchema },
  'backfill:list': { request: backfillListRequestSchema, response: z.array(backfillRecordSchema) },
  'partitions:list': { request: partitionListRequestSchema, response: partitionListReportSchema },
  'partitions:plan': { request: emptyRequest, response: partitionPlanReportSchema },
  'partitions:apply': { request: partitionApplyRequestSchema, response: partitionApplyReportSchema },
  'partitions:convertPlan': { request: conversionPlanRequestSchema, response: conversionPlanReportSchema },
  'partitions:convert': { request: conversionRunRequestSchema, response: conversionReportSchema },
  'retention:get': { request: emptyRequest, response: retentionPolicyEntrySchema },
  'retention:set': { request: retentionSetRequestSchema, response: retentionPolicyEntrySchema },
  'retention:plan': { request: pruneRequestSchema, response: pruneReportSchema },
  'retention:prune': { request: pruneRunRequestSchema, response: pruneReportSchema },
  'retention:runs': { request: maintenanceRunsRequestSchema, response: maintenanceRunHistorySchema },
  'audit:list': { request: auditQuerySchema, response: z.array(auditEntryRecordSchema) },
  'reconcile:plan': { request: reconcileRequestSchema, response: reconcileReportSchema },
  'reconcile:run': { request: reconcileRunRequestSchema, response: reconcileReportSchema },
  'reconcile:runs': { request: reconcileRunsRequestSchema, response: reconcileRunHistorySchema },
  'backup:plan': { request: backupRequestSchema, response: backupPlanSchema },
  'backup:run': { request: backupRunRequestSchema, response: backupSetRecordSchema },
  'backup:list': { request: backupListRequestSchema, response: backupListSchema },
  'backup:cancel': { request: backupIdRequestSchema, response: backupSetRecordSchema },
  'backup:verify': { request: backupVerifyRequestSchema, response: backupVerifyReportSchema },
  'backup:restore': { request: backupRestoreRequestSchema, response: backupRestoreReportSchema },
  'backup:retention': { request: emptyRequest, response: backupRetentionEntrySchema },
  'monitor:snapshot': { request: emptyRequest, response: monitorSnapshotSchema },
  'monitor:series': { request: monitorSeriesRequestSchema, response: monitorSeriesReportSchema },
  'monitor:advise': { request: emptyRequest, response: adviceReportSchema },
  'traffic:chart': { request: trafficRequestSchema, response: trafficAnswerSchema },
  'traffic:sites': { request: trafficSitesRequestSchema, response: trafficSitesSchema },
  'alerts:list': { request: alertListRequestSchema, response: alertListSchema },
  'alerts:history': { request: alertHistoryRequestSchema, response: z.array(alertTransitionSchema) },
  'alerts:rules': { request: emptyRequest, response: z.array(alertRuleSchema) },
  'alerts:setRule': { request: alertRuleSetRequestSchema, response: alertRuleSchema },
  'alerts:silence': { request: alertSilenceRequestSchema, response: alertSilenceSchema },
  'alerts:unsilence': { request: alertUnsilenceRequestSchema, response: alertSilenceSchema },
  'alerts:ack': { request: alertAckRequestSchema, response: alertStateSchema },
  'alerts:deliveries': { request: alertDeliveriesRequestSchema, response: z.array(alertDeliverySchema) },
  'alerts:testWebhook': { request: emptyRequest, response: webhookTestReportSchema },
  'alerts:check': { request: emptyRequest, response: checkReportSchema },
  'cache:stats': { request: emptyRequest, response: cacheStatsSchema },
  'cache:keys': { request: cacheKeysRequestSchema, response: cacheKeysReportSchema },
  'cache:invalidate': { request: cacheInvalidateRequestSchema, response: cacheInvalidationResultSchema },
  'cache:invalidations': { request: cacheInvalidationsRequestSchema, response: cacheInvalidationLogSchema },
} as const;

/**
 * Events from the main process to the console: name `domain:onSomething` → payload schema. Hosts validate every
 * payload against its schema before sending it, and the preload exposes each as `domain.onSomething(listener)`.
 */
export const events = {
  'backfill:onProgress': backfillProgressSchema,
  'partitions:onProgress': partitionApplyEventSchema,
  'partitions:onConvertProgress': conversionEventSchema,
  'retention:onProgress': pruneProgressSchema,
  'backup:onProgress': backupProgressSchema,
  'backup:onVerifyProgress': backupProgressSchema,
  'monitor:onCycle': monitorSnapshotSchema,
  'alerts:onChange': alertListSchema,
} as const;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.infer<Events[E]>;

export function isEventName(name: string): name is EventName {
  return Object.hasOwn(events, name);
}

export type Channels = typeof channels;
export type ChannelName = keyof Channels;
export type ChannelRequest<C extends ChannelName> = z.infer<Channels[C]['request']>;
export type ChannelResponse<C extends ChannelName> = z.infer<Channels[C]['response']>;

export type TableEstimate = z.infer<typeof tableEstimateSchema>;
export type ShardStatus = z.infer<typeof shardStatusSchema>;
export type RedisStatus = z.infer<typeof redisStatusSchema>;
export type ClusterStatus = z.infer<typeof clusterStatusSchema>;
export type SchemaDrift = z.infer<typeof schemaDriftSchema>;
export type SchemaDriftKind = SchemaDrift['kind'];
export type ShardSchemaCheck = z.infer<typeof shardSchemaCheckSchema>;
export type SchemaCheckReport = z.infer<typeof schemaCheckReportSchema>;

export function isChannelName(name: string): name is ChannelName {
  return Object.hasOwn(channels, name);
}
