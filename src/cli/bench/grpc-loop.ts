import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_DIR } from '../../server/grpc/proto.js';
import type { HttpScenario } from './scenarios.js';
import { outcome, summarize } from './stats.js';

/**
 * Closed loop over gRPC: `connections` clients, each on its own channel (its own HTTP/2
 * connection, as autocannon gives each HTTP client its own socket), each calling pronto.v1.Pronto's
 * `Embed` with the `embed` scenario's texts and sending the next call when the last answered.
 */
export async function grpcClosedLoop(target: string, scenario: HttpScenario, options: { connections: number; durationS: number }) {
  const definition = protoLoader.loadSync('pronto/v1/pronto.proto', { keepCase: true, includeDirs: [PROTO_DIR] });
  const Pronto = (grpc.loadPackageDefinition(definition) as unknown as { pronto: { v1: { Pronto: typeof grpc.Client } } }).pronto.v1.Pronto;
  const clients = Array.from({ length: options.connections }, () => new Pronto(target, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  let n = 0;
  const latencies: number[] = [];
  const statuses: string[] = [];
  const startedAt = performance.now();
  const endAt = startedAt + options.durationS * 1000;
  const embed = (client: grpc.Client, request: unknown) =>
    new Promise<number>((resolve) =>
      (client as unknown as Record<string, (req: unknown, cb: (err: grpc.ServiceError | null) => void) => void>).Embed(request, (err) => resolve(err ? err.code : grpc.status.OK)),
    );
  await Promise.all(
    clients.map(async (client) => {
      while (performance.now() < endAt) {
        const { input, model } = scenario.body(n++) as { input: string; model?: string };
        const sentAt = performance.now();
        const code = await embed(client, { texts: [input], ...(model ? { model } : {}) });
        latencies.push(performance.now() - sentAt);
        statuses.push(grpc.status[code]);
      }
    }),
  );
  const elapsedS = (performance.now() - startedAt) / 1000;
  for (const client of clients) client.close();
  return {
    mode: 'closed',
    transport: 'grpc',
    connections: options.connections,
    duration_s: options.durationS,
    ...outcome(statuses, elapsedS, (status) => status === 'OK'),
    ...summarize(latencies),
  };
}
