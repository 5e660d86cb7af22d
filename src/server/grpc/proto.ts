import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

/** The repository's `proto/` folder: pronto's API and the google.rpc error details it sends. */
export const PROTO_DIR = fileURLToPath(new URL('../../../proto/', import.meta.url));

/**
 * Field names as written in the .proto (snake_case, like the JSON API), unset fields left out
 * (so validation sees what the client sent, as over HTTP); no virtual oneof fields (proto3
 * `optional` makes one per field, which validation would refuse as unknown).
 */
const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, defaults: false, arrays: false, enums: String, longs: Number, oneofs: false, includeDirs: [PROTO_DIR] };

/** pronto.v1 as grpc-js serves it (and as reflection describes it). */
export function loadProntoPackage(): protoLoader.PackageDefinition {
  return protoLoader.loadSync('pronto/v1/pronto.proto', LOADER_OPTIONS);
}

/** google.rpc.Status and its detail messages, encoded by hand into `grpc-status-details-bin`. */
export function loadErrorDetails() {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : PROTO_DIR + target);
  root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
  return {
    Status: root.lookupType('google.rpc.Status'),
    ErrorInfo: root.lookupType('google.rpc.ErrorInfo'),
    BadRequest: root.lookupType('google.rpc.BadRequest'),
    RetryInfo: root.lookupType('google.rpc.RetryInfo'),
  };
}
