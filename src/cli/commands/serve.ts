import { Command, Option } from 'commander';
import { wholeNumber } from '../command.js';

export default function serve(): Command {
  return new Command('serve')
    .description('run the HTTP API (and the gRPC API when server.grpc_port is set; with role all, the in-process job worker too)')
    .option('-c, --config <file>', 'YAML or JSON config file (default: PRONTO_CONFIG, else the embedded defaults)')
    .option('-p, --port <n>', 'port to listen on (default: PORT, else 8080; 0 picks a free one)', wholeNumber(0))
    .addOption(new Option('--role <role>', 'api: serve only; all: also run queued jobs').choices(['api', 'all']))
    .action(async (options: { config?: string; port?: number; role?: 'api' | 'all' }) => {
      const { loadConfig } = await import('../../config/load.js');
      const sources = { file: options.config, overrides: { server: { port: options.port, role: options.role } } };
      const config = loadConfig(sources);
      const file = options.config ?? process.env.PRONTO_CONFIG;
      const { serveForever } = await import('../../server/serve.js');
      // A reload (SIGHUP, or an edit of the config file) reads the same file, env and flags again.
      await serveForever(config, { reloadConfig: () => loadConfig(sources), watchFiles: file ? [file] : [] });
    });
}
