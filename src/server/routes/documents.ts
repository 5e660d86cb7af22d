import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ERROR_CATALOGUE, ProntoError, type ErrorCode } from '../../core/errors.js';
import type { DocumentInput, IngestResult } from '../../retrieval/types.js';
import { DOC_ID_PATTERN } from '../../retrieval/validate.js';
import type { PipelineRouteDeps } from '../route-deps.js';
import { contextOf } from '../request-context-of.js';
import { errorResponses, READ_ERRORS, type Schemas } from '../schemas.js';

/** `POST /v1/documents` (ingest, upsert by id) and `DELETE /v1/documents/:id`. */
export function registerDocumentRoutes(app: FastifyInstance, deps: PipelineRouteDeps, s: Schemas): void {
  const { config, pipeline } = deps;
  const Body = s.DocumentBatch;
  const Failure = Type.Object({
    id: Type.String(),
    index: Type.Integer(),
    error: Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) }),
  });

  app.post<{ Body: Static<typeof Body> }>(
    '/v1/documents',
    {
      config: { budget: 'ingest' },
      schema: {
        summary: 'Ingest documents (chunk, embed, upsert by id); searchable within a second',
        tags: ['retrieval'],
        body: Body,
        response: {
          200: Type.Object({
            namespace: Type.String(),
            accepted: Type.Array(Type.Object({ id: Type.String(), chunks: Type.Integer() })),
            failed: Type.Array(Failure),
          }),
          ...errorResponses(s),
        },
      },
    },
    async (request) => {
      const namespace = request.body.namespace ?? config.sample_corpus.namespace;
      // Metadata values are checked by retrieval (scalars and lists only), per document.
      const result = await pipeline.ingest(namespace, request.body.documents as DocumentInput[], contextOf(request));
      if (result.accepted.length === 0) throw nothingIngested(result.failed);
      return { namespace, ...result };
    },
  );

  const Params = Type.Object({ id: Type.String({ pattern: DOC_ID_PATTERN.source, description: 'The document id (a `/` in it percent-encoded)' }) });
  const Query = Type.Object({ namespace: Type.Optional(s.Namespace) }, { additionalProperties: false });
  app.delete<{ Params: Static<typeof Params>; Querystring: Static<typeof Query> }>(
    '/v1/documents/:id',
    {
      schema: {
        summary: 'Delete a document and its chunks',
        tags: ['retrieval'],
        params: Params,
        querystring: Query,
        response: { 200: Type.Object({ id: Type.String(), namespace: Type.String(), deleted_chunks: Type.Integer() }), ...errorResponses(s, READ_ERRORS) },
      },
    },
    async (request) => {
      const namespace = request.query.namespace ?? config.sample_corpus.namespace;
      const deleted = await pipeline.deleteDocument(namespace, request.params.id, contextOf(request));
      return { id: request.params.id, namespace, deleted_chunks: deleted };
    },
  );
}

/** Why no document of a batch was ingested, as one error for the whole request. */
function nothingIngested(failed: IngestResult['failed']): ProntoError {
  const first = failed[0];
  // Refused for lack of capacity (or a failing model), not for the documents: never a 4xx.
  const code = first.error.code as ErrorCode;
  const status = ERROR_CATALOGUE[code].status;
  if (status === 429 || status >= 500) {
    return new ProntoError(code, `No document was ingested: ${first.error.message}`, { retryAfterS: 1, details: { failed } });
  }
  return new ProntoError('invalid_input', `No document was ingested: documents[${first.index}]: ${first.error.message}`, {
    // Retrieval's field paths are already absolute (`documents[3].metadata.m`).
    field: first.error.field ?? `documents[${first.index}]`,
    details: { failed },
  });
}
