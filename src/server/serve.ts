import type { Config } from '../config/schema.js';
import { sleep } from '../core/deadline.js';
import { createRuntime, type Runtime, type RuntimeOptions } from '../runtime.js';
import { buildApp, type App } from './app.js';
import { checkExposure } from './exposure.js';
import { startOtelSdk } from '../observability/otel-sdk.js';
import { startGrpcServer, type GrpcFront } from './grpc/server.js';

export interface RunningServer {
  url: string;
  app: App;
  runtime: Runtime;
  /** The gRPC front, when server.grpc_port is set. */
  grpc?: GrpcFront;
  /** Resolves once models are loaded and warmed (readiness). */
  ready: Promise<void>;
  /**
   * Drains (readiness 503, still serving, for server.drain_ms), then stops accepting, lets
   * in-flight requests and streams finish (up to server.shutdown_grace_ms), and frees everything.
   */
  close(): Promise<void>;
}

/**
 * Listens first and loads models after, so /healthz answers at once and /readyz turns 200 only
 * when every model is warm. A failed start (model file missing...) is logged and exits non-zero.
 */
export async function startServer(config: Config, options: RuntimeOptions = {}): Promise<RunningServer> {
  const { openToNetwork } = checkExposure(config);
  const runtime = createRuntime(config, options);
  if (openToNetwork) {
    runtime.logger.warn(
      { host: config.server.host },
      'AUTH IS OFF on an address other machines can reach (auth.allow_anonymous: true): anyone who connects can read, write and delete documents',
    );
  }
  const app = await buildApp(runtime);
  const address = await app.server.listen({ host: config.server.host, port: config.server.port });
  const url = address.replace('[::]', '127.0.0.1').replace('0.0.0.0', '127.0.0.1');
  const grpc = config.server.grpc_port === undefined ? undefined : await startGrpcServer(runtime, app, config.server.grpc_port);
  const ready = runtime.start();
  ready.then(() => grpc?.refreshHealth(), () => undefined);
  let closing: Promise<void> | undefined;

  return {
    url,
    app,
    runtime,
    grpc,
    ready,
    close() {
      closing ??= (async () => {
        app.state.draining = true;
        grpc?.refreshHealth();
        await sleep(config.server.drain_ms);
        app.state.shuttingDown = true;
        // The grace timer holds the process until it is cleared: were it unref'd, a close waiting on
        // a connection that holds no handle let the process exit before the runtime closed.
        const graceOver = new AbortController();
        const grace = sleep(config.server.shutdown_grace_ms, graceOver.signal).catch(() => undefined);
        await Promise.race([Promise.all([app.server.close(), grpc?.close(config.server.shutdown_grace_ms)]), grace]);
        graceOver.abort();
        await runtime.close();
      })();
      return closing;
    },
  };
}

/**
 * `pronto serve`: runs until SIGTERM/SIGINT, then drains and exits 0. SIGHUP reloads the config
 * (`options.reloadConfig`) and the keys file without a restart.
 */
export async function serveForever(config: Config, options: RuntimeOptions = {}): Promise<void> {
  const stopTracing = startOtelSdk(config.observability);
  const server = await startServer(config, options);
  const { logger } = server.runtime;
  server.ready.then(
    () => logger.info({ url: server.url }, 'pronto is ready'),
    (err) => {
      logger.fatal({ err }, 'start-up failed');
      process.exit(1);
    },
  );
  const stop = (signal: string) => {
    logger.info({ signal, drain_ms: server.runtime.config.server.drain_ms }, 'draining: readiness 503, still serving until the drain ends');
    server
      .close()
      .then(stopTracing)
      .then(
        () => process.exit(0),
        (err) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGHUP', () => server.runtime.reloads.reload('SIGHUP'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
