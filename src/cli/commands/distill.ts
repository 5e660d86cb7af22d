import { Command } from 'commander';

export default function distill(): Command {
  return new Command('distill')
    .description('distill use-lite into the static embedder table (<data_dir>/models; otherwise built at first start)')
    .option('--force', 'rebuild even when the table for the installed use-lite weights exists')
    .option('-c, --config <file>', 'YAML or JSON config file (default: PRONTO_CONFIG, else the embedded defaults)')
    .action(async (options: { force?: boolean; config?: string }) => {
      const { join } = await import('node:path');
      const { pino } = await import('pino');
      const { loadConfig } = await import('../../config/load.js');
      const { loadOrDistill } = await import('../../models/use-lite/distill.js');
      const config = loadConfig({ file: options.config });
      const startedAt = performance.now();
      const table = await loadOrDistill(join(config.data_dir, 'models'), pino({ level: 'warn' }, pino.destination(2)), { force: options.force });
      process.stdout.write(`${JSON.stringify({ path: table.path, weights_sha256: table.weightsHash, seconds: (performance.now() - startedAt) / 1000 })}\n`);
    });
}
