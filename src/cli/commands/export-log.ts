import { Command, InvalidArgumentError } from 'commander';

export default function exportLog(): Command {
  return new Command('export-log')
    .description('print the request log (sampled, redacted; see observability.request_log) as JSONL, oldest first')
    .requiredOption('--since <date>', 'only requests answered at or after this date or time (ISO 8601, e.g. 2026-12-01)', isoDate)
    .option('--with-feedback', 'attach to each request the feedback it received (`feedback`: [{at, rating, comment}])')
    .option('-c, --config <file>', 'YAML or JSON config file naming data_dir (default: PRONTO_CONFIG / PRONTO_DATA_DIR)')
    .addHelpText('after', '\nExample: pronto export-log --since 2026-12-01 --with-feedback > requests.jsonl')
    .action(async (options: { since: Date; withFeedback?: boolean; config?: string }) => {
      const { loadConfig } = await import('../../config/load.js');
      const { readRequestLog, requestLogDir } = await import('../../observability/request-log.js');
      const config = loadConfig({ file: options.config });
      const records = await readRequestLog(requestLogDir(config.data_dir), { since: options.since, withFeedback: options.withFeedback === true });
      for (const record of records) process.stdout.write(JSON.stringify(record) + '\n');
    });
}

function isoDate(value: string): Date {
  const date = /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(NaN);
  if (Number.isNaN(date.getTime())) throw new InvalidArgumentError('expected an ISO 8601 date, e.g. 2026-12-01 or 2026-12-01T10:00:00Z');
  return date;
}
