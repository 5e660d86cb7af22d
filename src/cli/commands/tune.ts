import { Command } from 'commander';
import { wholeNumber } from '../command.js';

export default function tune(): Command {
  return new Command('tune')
    .description('fit hybrid fusion to a namespace without judged queries: prints the pseudo-query scores and the retrieval config to use')
    .argument('<namespace>', 'namespace of the local index (as ingested)')
    .option('--tenant <tenant>', 'tenant owning the namespace', 'public')
    .option('--queries <n>', 'pseudo-queries: sentences held out of this many documents', wholeNumber(10), 500)
    .option('--adapter-out <file>', 'also train a query adapter on the pseudo-queries and write it here (for retrieval.query_adapter)')
    .option('-c, --config <file>', 'YAML or JSON config file (default: PRONTO_CONFIG, else the embedded defaults)')
    .action(async (namespace: string, options: import('../tune.js').TuneCliOptions) => {
      const { runTune } = await import('../tune.js');
      await runTune(namespace, options);
    });
}
