import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Writes the quality gates' config: the static embedder (use-lite distilled) keeps an ingest to
 * seconds, and its table is cached outside the run's data dir, keyed by use-lite's weights, so only
 * the first CI run distills it.
 */
export function writeStaticConfig(file: string, dataDir: string): void {
  writeFileSync(
    file,
    JSON.stringify({
      models: [
        { name: 'static', role: 'embedder', backend: 'static', options: { cache_dir: join(tmpdir(), 'pronto-static-table') } },
        { name: 'extractive', role: 'generator', backend: 'extractive' },
      ],
      pipeline: { embedder: 'static' },
      data_dir: dataDir,
      observability: { log_level: 'warn' },
    }),
  );
}
