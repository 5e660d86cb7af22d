import { Server, ServerCredentials, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { loadSync } from '@grpc/proto-loader';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import type { Runtime } from '../../runtime.js';
import type { App } from '../app.js';
import { unreadiness } from '../front/admission.js';
import { createCallWrappers } from './calls.js';
import { createMethods, SERVICE } from './methods.js';
import { loadProntoPackage } from './proto.js';
import { createStatusMapper } from './status.js';

export interface GrpcFront {
  /** The port it listens on (the configured one, or the one the OS chose for port 0). */
  port: number;
  /** Re-reads readiness into the health service: call when it may have changed. */
  refreshHealth(): void;
  /** Stops taking calls, lets running ones finish for up to `graceMs`, then cuts the rest. */
  close(graceMs: number): Promise<void>;
}

/**
 * The gRPC front on its own port (server.grpc_port): pronto.v1.Pronto through the same front door
 * and pipeline as HTTP, grpc.health.v1 (SERVING exactly when /readyz answers 200, for the whole
 * server and for pronto.v1.Pronto) and server reflection, so grpcurl works without the .proto.
 */
export async function startGrpcServer(runtime: Runtime, app: App, port: number): Promise<GrpcFront> {
  const { config } = runtime;
  const packageDefinition = loadProntoPackage();
  const wrappers = createCallWrappers({ runtime, front: app.front, toStatus: createStatusMapper() });
  const server = new Server({ 'grpc.max_receive_message_length': config.server.body_limit_bytes });
  server.addService(packageDefinition[SERVICE] as ServiceDefinition, createMethods(runtime, wrappers) as UntypedServiceImplementation);

  const health = new HealthImplementation();
  const refreshHealth = () => {
    const status = unreadiness(app.state) ? 'NOT_SERVING' : 'SERVING';
    for (const service of ['', SERVICE]) health.setStatus(service, status);
  };
  refreshHealth();
  health.addToServer(server);
  // Reflection describes every service served, health included.
  new ReflectionService({ ...packageDefinition, ...loadSync(healthProtoPath) }).addToServer(server);

  const boundPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${bindHost(config.server.host)}:${port}`, ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  runtime.logger.info({ port: boundPort }, 'gRPC listening');

  return {
    port: boundPort,
    refreshHealth,
    async close(graceMs) {
      refreshHealth();
      const drained = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      const timer = setTimeout(() => server.forceShutdown(), graceMs);
      await drained;
      clearTimeout(timer);
    },
  };
}

/** IPv6 literals go in brackets in a gRPC target. */
function bindHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
