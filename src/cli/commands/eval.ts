import { Command, Option } from 'commander';
import { UsageError, wholeNumber } from '../command.js';

export default function evaluate(): Command {
  return new Command('eval')
    .description('score retrieval on a BEIR data set: prints JSON with nDCG@10, recall@10/100, MRR@10 and latency')
    .argument('<beir-dir>', 'directory with corpus.jsonl, queries.jsonl and qrels/<split>.tsv')
    .option('--split <split>', 'qrels split to score', 'test')
    .addOption(new Option('--mode <mode>', 'retrieval mode (default: retrieval.default_mode)').choices(['dense', 'sparse', 'hybrid']))
    .addOption(new Option('--fusion <method>', 'hybrid fusion (default: retrieval.fusion)').choices(['rrf', 'weighted']))
    .option('--rerank', 'rerank the candidates', false)
    .option('--adapter <file>', 'query adapter from `pronto train-adapter` (default: retrieval.query_adapter)')
    .option('--cv <k>', 'train a query adapter on k-1 folds and score the held-out one, k times', wholeNumber(2))
    .option('--limit <n>', 'score only the first n queries', wholeNumber(1))
    .option('-c, --config <file>', 'YAML or JSON config file (default: PRONTO_CONFIG, else the embedded defaults)')
    .action(async (dir: string, options: import('../eval.js').EvalCliOptions) => {
      if (options.cv && options.adapter) throw new UsageError('--adapter and --cv exclude each other');
      const { runEval } = await import('../eval.js');
      await runEval(dir, options);
    });
}
