import type { ClusterConnections } from '../cluster/connections';
import type { Logger } from '../log';
import { AuditLog } from './audit-log';
import { ControlShard } from './control-shard';
import { RunHistory } from './run-history';
import { SettingsStore } from './settings';

export { AuditLog, type AuditEntry } from './audit-log';
export { CONTROL_SHARD, ControlShard, type ControlSession, type ControlSessionOptions } from './control-shard';
export { acquireNamedLock, releaseNamedLock, withNamedLock, type LockSession } from './named-lock';
export { COMMITTED_ROLLUP_OUTCOMES, completedWindowsSql, readCompletedWindows, RunHistory, type HistoryRead, type JobRunEntry } from './run-history';
export { SettingsStore, type StoredSetting } from './settings';

/**
 * The cluster's shared state, as every feature uses it: the control shard, its audit log and settings, and the
 * run history on every shard. Built once in the composition root and handed to the services that need it.
 */
export interface ClusterState {
  control: ControlShard;
  audit: AuditLog;
  settings: SettingsStore;
  history: RunHistory;
}

export function createClusterState(connections: ClusterConnections, logger: Logger): ClusterState {
  const control = new ControlShard(connections);
  return {
    control,
    audit: new AuditLog(control, logger.scope('audit')),
    settings: new SettingsStore(control),
    history: new RunHistory(connections, logger.scope('history')),
  };
}
