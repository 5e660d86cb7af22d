import { raceAbort } from '../../core/deadline.js';
import { ProntoError } from '../../core/errors.js';
import { redactDeep } from '../../core/redact-deep.js';
import { refusePersonalData } from '../../core/redact.js';
import type { DocumentInput } from '../../retrieval/types.js';
import { namespaceOf } from '../context.js';
import { createStageRunner } from '../stage-runner.js';
import type { Pipeline } from '../types.js';
import type { FlowDeps } from './deps.js';
import { refuseWorkPastDeadline } from './ingest-fit.js';

/** ingest: sanitize -> chunk, embed, upsert (retrieval.ingest); and deleting a document. */
export function createIngestFlow(deps: FlowDeps): Pick<Pipeline, 'ingest' | 'deleteDocument'> {
  const { config, models, retrieval, redactor, metrics } = deps;
  const runner = createStageRunner(config, metrics, deps.tracer, 'ingest');
  return {
    async ingest(namespace, documents, ctx) {
      refusePersonalData(redactor, namespace, 'namespace');
      documents.forEach((d, i) => {
        refusePersonalData(redactor, d.id, `documents[${i}].id`);
        for (const key of Object.keys(d.metadata ?? {})) refusePersonalData(redactor, key, `documents[${i}].metadata`);
      });
      const embedder = models.embedder(config.pipeline.embedder);
      refuseWorkPastDeadline(documents, embedder, ctx.deadline);
      // Documents are large by nature: their redaction runs against the request's deadline, not the
      // sanitize budget meant for queries (it yields between slices, so nothing else waits).
      const startedAt = performance.now();
      const texts: string[] = [];
      for (const d of documents) texts.push(await redactor.redactInSlices(d.text, ctx.deadline.signal));
      runner.record(ctx, 'sanitize', startedAt, 'ok');
      const clean = documents.map((d, i) => ({
        ...d,
        text: texts[i],
        title: d.title === undefined ? undefined : redactor.redact(d.title),
        metadata: d.metadata === undefined ? undefined : (redactDeep(d.metadata, redactor.redact) as DocumentInput['metadata']),
      }));
      // The answer goes at the deadline: a store write in flight then (it cannot be cancelled) still
      // commits, and a retry replaces the same ids. Whatever was written, all or some, now or after
      // the deadline, gives the namespace a new index version (retrieval announces each committed
      // batch): no result cached before it is served.
      const written = retrieval.ingest(namespaceOf(ctx, namespace), clean, { embedder, signal: ctx.deadline.signal, deadlineAt: ctx.deadline.at });
      return raceAbort(written, ctx.deadline.signal);
    },

    async deleteDocument(namespace, docId, ctx) {
      // A delete gives the namespace a new index version too (retrieval announces it).
      const deleted = await retrieval.deleteDocument(namespaceOf(ctx, namespace), docId);
      if (deleted === 0) {
        throw new ProntoError('not_found', `document "${docId}" does not exist in namespace "${namespace}"`, { field: 'id' });
      }
      return deleted;
    },
  };
}
