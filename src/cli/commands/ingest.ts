import { Command } from 'commander';

export default function ingest(): Command {
  return new Command('ingest')
    .description('index files into the local store, with a progress bar on stderr and a JSON summary on stdout')
    .argument('<path...>', '.jsonl (BEIR {_id,title,text} or {id,text,metadata}), .md or .txt files; directories are walked')
    .option('-n, --namespace <ns>', 'namespace to ingest into (default: sample_corpus.namespace)')
    .option('--tenant <tenant>', 'tenant owning the namespace', 'public')
    .option('-c, --config <file>', 'YAML or JSON config file (default: PRONTO_CONFIG, else the embedded defaults)')
    .addHelpText('after', '\nExits 1 when any document failed (they are listed in the summary; the others are kept).')
    .action(async (paths: string[], options: { namespace?: string; tenant: string; config?: string }) => {
      const { runIngest } = await import('../ingest.js');
      await runIngest(paths, options);
    });
}
