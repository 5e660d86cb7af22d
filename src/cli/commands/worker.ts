import { Command } from 'commander';

export default function worker(): Command {
  return new Command('worker')
    .description('consume the Redis job queue until SIGTERM or SIGINT (needs REDIS_URL)')
    .option('-c, --config <file>', 'YAML or JSON config file (default: PRONTO_CONFIG, else the embedded defaults)')
    .action(async (options: { config?: string }) => {
      const { runWorker } = await import('../worker.js');
      await runWorker(options);
    });
}
