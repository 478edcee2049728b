import type { Profile } from '../shared/profile';
import { ClusterConnections, type ConnectionOptions } from './cluster/connections';
import { ClusterStatusService, type StatusService } from './cluster/status';
import { GeneratorService, type TrafficGenerator } from './generate/service';
import { ClusterSchemaService, type SchemaService } from './schema/service';
import type { Logger } from './log';
import type { SecretResolver } from './secrets';

export interface ServiceOptions {
  profile: Profile;
  secrets: SecretResolver;
  logger: Logger;
  connection?: ConnectionOptions;
}

/** Everything a host (Electron main, CLI, agent, test web host) works with. */
export interface StrataServices {
  connections: ClusterConnections;
  status: StatusService;
  generator: TrafficGenerator;
  schema: SchemaService;
  /** Stops services in reverse order of creation, then closes every connection. */
  dispose(): Promise<void>;
}

/** The one composition root: every host builds its services here, so they all behave alike. */
export function createServices(options: ServiceOptions): StrataServices {
  const connections = new ClusterConnections(options.profile, options.secrets, options.connection);
  const status = new ClusterStatusService(connections, options.logger.scope('status'));
  const generator = new GeneratorService(connections, options.logger.scope('generate'));
  const schema = new ClusterSchemaService(connections, options.logger.scope('schema'));
  const disposables = [status, schema, generator];
  return {
    connections,
    status,
    generator,
    schema,
    async dispose() {
      for (const service of disposables.reverse()) await service.dispose();
      await connections.dispose();
    },
  };
}
