import { Command } from 'commander';
import { wholeNumber } from '../command.js';

export default function tune(): Command {
  return new Command('tune')
    .description(
      'fit hybrid fusion to a namespace without judged queries and store it with the namespace (every replica searching it uses it); prints the pseudo-query scores',
    )
    .argument('<namespace>', 'namespace of the index (as ingested)')
    .option('--tenant <tenant>', 'tenant owning the namespace', 'public')
    .option('--queries <n>', 'pseudo-queries: sentences held out of this many documents', wholeNumber(10), 500)
    .option('--adapter', 'also train a query adapter on the pseudo-queries and store it with the namespace')
    .option('--adapter-file <file>', 'store this adapter (from `pronto train-adapter`) with the namespace')
    .option('--no-save', 'print the fit without storing it')
    .option('--reset', "drop the namespace's stored tuning (search goes back to the retrieval config)")
    .option('-c, --config <file>', 'YAML or JSON config file (default: PRONTO_CONFIG, else the embedded defaults)')
    .action(async (namespace: string, options: import('../tune.js').TuneCliOptions) => {
      const { runTune } = await import('../tune.js');
      await runTune(namespace, options);
    });
}
