import type { ComponentType } from 'react';
import { AlertsPage } from './alerts/AlertsPage';
import { AuditPage } from './audit/AuditPage';
import { BackfillPage } from './backfill/BackfillPage';
import { BackupsPage } from './backups/BackupsPage';
import { CachePage } from './cache/CachePage';
import { ClusterOverviewPage } from './cluster-overview/ClusterOverviewPage';
import { JobsPage } from './jobs/JobsPage';
import { MonitoringPage } from './monitoring/MonitoringPage';
import { PartitionsPage } from './partitions/PartitionsPage';
import { RetentionPage } from './retention/RetentionPage';
import { SchedulesPage } from './schedules/SchedulesPage';
import { TrafficPage } from './traffic/TrafficPage';

/** One entry per console page; the navigation bar and the router are built from this list. */
export interface ConsolePage {
  /** Stable id, used in the address (`#/<id>`) and in test ids. */
  id: string;
  label: string;
  /** Navigation group the page is listed under. */
  section: string;
  component: ComponentType;
}

/** Adding a page is one entry here; the first page is the start page. */
export const PAGES: readonly [ConsolePage, ...ConsolePage[]] = [
  { id: 'cluster-overview', label: 'Cluster overview', section: 'Cluster', component: ClusterOverviewPage },
  { id: 'monitoring', label: 'Monitoring', section: 'Cluster', component: MonitoringPage },
  { id: 'traffic', label: 'Traffic', section: 'Cluster', component: TrafficPage },
  { id: 'alerts', label: 'Alerts', section: 'Cluster', component: AlertsPage },
  { id: 'cache', label: 'Cache', section: 'Cluster', component: CachePage },
  { id: 'audit', label: 'Audit log', section: 'Cluster', component: AuditPage },
  { id: 'jobs', label: 'Jobs', section: 'Rollups', component: JobsPage },
  { id: 'schedules', label: 'Schedules', section: 'Rollups', component: SchedulesPage },
  { id: 'backfill', label: 'Backfill', section: 'Rollups', component: BackfillPage },
  { id: 'partitions', label: 'Partitions', section: 'Storage', component: PartitionsPage },
  { id: 'retention', label: 'Retention', section: 'Storage', component: RetentionPage },
  { id: 'backups', label: 'Backups', section: 'Storage', component: BackupsPage },
];
