import { modelConfig } from '../models/helpers.js';
import { startTestServer, type TestServer } from '../support/server.js';

const DOCUMENTS = [
  { id: 'glaciers', text: 'Compacted snow forms ice sheets that flow slowly downhill. Glaciers carve deep valleys into the rock.' },
  { id: 'tides', text: 'The gravitational pull of the moon raises ocean tides twice a day.' },
  { id: 'volcanoes', text: 'Magma rises through the crust and erupts as lava and ash.' },
];

/**
 * The real server for the client suites: a fast 16-dimensional sim embedder, the extractive
 * generator, and three documents in the default namespace (what `pronto-rag` answers from).
 */
export async function startClientTestServer(): Promise<TestServer> {
  const server = await startTestServer({
    models: [
      modelConfig({ name: 'sim', role: 'embedder', backend: 'sim', options: { base_ms: 1, per_item_ms: 0.1, dimensions: 16 } }),
      modelConfig({ name: 'extractive', role: 'generator', backend: 'extractive' }),
    ],
    pipeline: { embedder: 'sim', generator: 'extractive', reranker: undefined },
    sample_corpus: { enabled: false },
    observability: { log_level: 'warn' },
  });
  const res = await server.post('/v1/documents', { documents: DOCUMENTS });
  if (res.status !== 200) throw new Error(`ingest failed: ${res.status} ${await res.text()}`);
  return server;
}
