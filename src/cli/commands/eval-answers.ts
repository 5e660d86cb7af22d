import { Command, Option } from 'commander';
import { wholeNumber } from '../command.js';

export default function evalAnswers(): Command {
  return new Command('eval-answers')
    .description('score answers on an NQ-open style set: prints JSON with best_subspan_em, gold in contexts, abstention, length and latency')
    .argument('<dir>', 'directory with corpus.jsonl ({_id,title,text}) and questions.jsonl ({question,answers,gold_ids?})')
    .addOption(new Option('--subset <which>', 'every question, or every other one (tune on one half, report the other)').choices(['all', 'even', 'odd']).default('all'))
    .option('--limit <n>', 'ask only the first n questions of the subset', wholeNumber(1))
    .option('--top-k <n>', 'contexts per question (default: retrieval.default_top_k)', wholeNumber(1))
    .option('--out <file>', 'also write one JSON line per question: answer, contexts, timings')
    .option('-c, --config <file>', 'YAML or JSON config file (default: PRONTO_CONFIG, else the embedded defaults)')
    .action(async (dir: string, options: import('../eval-answers.js').EvalAnswersOptions) => {
      const { runEvalAnswers } = await import('../eval-answers.js');
      await runEvalAnswers(dir, options);
    });
}
