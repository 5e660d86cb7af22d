import { Command, InvalidArgumentError } from 'commander';

export default function exportLog(): Command {
  return new Command('export-log')
    .description('print the request log (sampled, redacted; see observability.request_log) as JSONL, oldest first')
    .requiredOption('--since <date>', 'only requests answered at or after this date or time (ISO 8601, e.g. 2026-12-01)', isoDate)
    .option('--with-feedback', 'attach to each request the feedback it received (`feedback`: [{at, rating, comment}])')
    .option('--beir <dir>', 'instead, write the positively rated requests as BEIR queries.jsonl + qrels/test.tsv into DIR (for `pronto eval`)')
    .option('-c, --config <file>', 'YAML or JSON config file naming data_dir (default: PRONTO_CONFIG / PRONTO_DATA_DIR)')
    .addHelpText('after', '\nExamples:\n  pronto export-log --since 2026-12-01 --with-feedback > requests.jsonl\n  pronto export-log --since 2026-12-01 --beir judged/')
    .action(async (options: { since: Date; withFeedback?: boolean; beir?: string; config?: string }) => {
      const { loadConfig } = await import('../../config/load.js');
      const { readRequestLog, requestLogDir } = await import('../../observability/request-log.js');
      const config = loadConfig({ file: options.config });
      const withFeedback = options.withFeedback === true || options.beir !== undefined;
      const records = await readRequestLog(requestLogDir(config.data_dir), { since: options.since, withFeedback });
      if (options.beir === undefined) {
        for (const record of records) process.stdout.write(JSON.stringify(record) + '\n');
        return;
      }
      const { judgementsFrom, writeBeir } = await import('../../observability/beir-export.js');
      const judgements = judgementsFrom(records);
      await writeBeir(options.beir, judgements);
      process.stdout.write(JSON.stringify({ dir: options.beir, queries: judgements.queries.length, judgements: judgements.qrels.length }) + '\n');
    });
}

function isoDate(value: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(NaN);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError('expected an ISO 8601 date, e.g. 2026-12-01 or 2026-12-01T10:00:00Z');
  return date;
}
