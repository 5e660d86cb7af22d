import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import type { DeepPartial } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { PROTO_DIR } from '../../src/server/grpc/proto.js';
import { startTestServer, type TestServer } from './server.js';

/** A sim embedder (fast, no weights), the extractive generator, and a generator slow enough to watch: 40 tokens, 25 ms apart. */
export const STREAM_MODELS = [
  { name: 'sim', role: 'embedder', backend: 'sim', options: { base_ms: 0, per_item_ms: 0, dimensions: 32 } },
  { name: 'extractive', role: 'generator', backend: 'extractive' },
  { name: 'slow-gen', role: 'generator', backend: 'sim', options: { base_ms: 0, per_item_ms: 25, answer_tokens: 40 } },
] as unknown as Config['models'];

/** A real grpc-js client of pronto.v1.Pronto, built from the repository's .proto as any client would. */
export function prontoClient(port: number): grpc.Client & Record<string, any> {
  const definition = protoLoader.loadSync('pronto/v1/pronto.proto', { keepCase: true, defaults: false, oneofs: true, includeDirs: [PROTO_DIR] });
  const Pronto = (grpc.loadPackageDefinition(definition) as any).pronto.v1.Pronto as typeof grpc.Client;
  return new Pronto(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, any>;
}

export type ProntoClient = ReturnType<typeof prontoClient>;

/** A test server with its gRPC front on an ephemeral port, and a client of it; close the client before the server. */
export async function startGrpcTestServer(overrides: DeepPartial<Config>): Promise<{ server: TestServer; client: ProntoClient }> {
  const server = await startTestServer({ ...overrides, server: { ...overrides.server, grpc_port: 0 } });
  return { server, client: prontoClient(server.grpc!.port) };
}

/** Calls a unary method; resolves with the response or rejects with the ServiceError. */
export function unary<T = any>(client: Record<string, any>, method: string, request: unknown, metadata = new grpc.Metadata(), options: grpc.CallOptions = {}): Promise<T> {
  return new Promise((resolve, reject) => client[method](request, metadata, options, (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res))));
}

export function withKey(key: string): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${key}`);
  return metadata;
}

/** The google.rpc.Status details a failed call carried, decoded: {reason, field, retryDelayS, metadata}. */
export function errorDetails(err: grpc.ServiceError) {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : PROTO_DIR + target);
  root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
  const [bytes] = err.metadata.get('grpc-status-details-bin') as Buffer[];
  const status = root.lookupType('google.rpc.Status').decode(bytes) as unknown as { code: number; details: { type_url: string; value: Uint8Array }[] };
  const decoded = Object.fromEntries(status.details.map((any) => [any.type_url.split('/').pop(), root.lookupType(any.type_url.split('/').pop()!).decode(any.value) as any]));
  const info = decoded['google.rpc.ErrorInfo'];
  const badRequest = decoded['google.rpc.BadRequest'];
  const retry = decoded['google.rpc.RetryInfo'];
  return {
    code: status.code,
    reason: info?.reason as string | undefined,
    metadata: (info?.metadata ?? {}) as Record<string, string>,
    field: badRequest?.field_violations?.[0]?.field as string | undefined,
    retryDelayS: retry ? Number(retry.retry_delay.seconds) : undefined,
  };
}
