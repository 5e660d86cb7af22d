import { Command } from 'commander';
import { number, wholeNumber } from '../command.js';

export default function trainAdapter(): Command {
  return new Command('train-adapter')
    .description('learn a query adapter from the judged queries of a BEIR split (for retrieval.query_adapter)')
    .argument('<beir-dir>', 'directory with corpus.jsonl, queries.jsonl and qrels/<split>.tsv')
    .option('--split <split>', 'qrels split to train on (never one you report scores on)', 'train')
    .option('-o, --out <file>', 'where to write the adapter (default: <data_dir>/query-adapter.json)')
    .option('--epochs <n>', 'training epochs', wholeNumber(1))
    .option('--temperature <t>', 'softmax temperature', number(0, true))
    .option('--l2 <l>', 'pull towards the identity', number(0))
    .option('--learning-rate <r>', 'step size', number(0, true))
    .option('-c, --config <file>', 'YAML or JSON config file (default: PRONTO_CONFIG, else the embedded defaults)')
    .action(async (dir: string, options: import('../train-adapter.js').TrainAdapterCliOptions) => {
      const { runTrainAdapter } = await import('../train-adapter.js');
      await runTrainAdapter(dir, options);
    });
}
