import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { LanceVectorStore } from '../src/retrieval/lance-store.ts';
const dir = mkdtempSync(join(tmpdir(), 'spill-'));
const store = new LanceVectorStore({ dir, ann: { minRows: 1e9, nprobes: 10, refineFactor: 1 }, logger: pino({ level: 'warn' }), embedder: 'x' });
await store.open();
const rnd = (n: number) => Math.floor(Math.random() * n);
for (let i = 0; i < 3000; i++) {
  const meta: Record<string, unknown> = {};
  const nf = rnd(3);
  for (let f = 0; f < nf; f++) {
    const key = 'k' + rnd(400);
    meta[key] = Number(key.slice(1)) % 2 ? 'v' + rnd(10) : rnd(100);
  }
  const chunk = { id: `d${rnd(5)}#0`, docId: `d${rnd(5)}`, index: 0, text: 'hello ' + i, metadata: meta };
  chunk.id = chunk.docId + '#0';
  try {
    await store.upsert('ns', [chunk], [new Float32Array([1, 0, 0, 0])]);
  } catch (err) {
    console.log('failed at', i, (err as Error).message.slice(0, 200));
    const fields = (await store.fieldTypes('ns')).size;
    console.log('fields', fields);
    break;
  }
  if (i % 250 === 0) console.log(i, (await store.fieldTypes('ns')).size);
}
await store.close();
