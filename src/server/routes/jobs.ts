import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ApiKeyRecord } from '../../config/auth.js';
import type { Config } from '../../config/schema.js';
import { DEFAULT_PRIORITY, JOB_KINDS, type JobKind, type JobQueue } from '../../jobs/types.js';
import { ProntoError, isProntoError } from '../../core/errors.js';
import type { AnswerJobInput, FlowJobInput } from '../../jobs/handlers.js';
import { conversationOf } from '../../api/answers.js';
import { checkNamespace } from '../../pipeline/context.js';
import { createSchemas, errorResponses, READ_ERRORS, type Schemas } from '../schemas.js';
import '../types.js';

export interface JobRouteDeps {
  jobs: JobQueue;
  config: Config;
}

/** `POST /v1/jobs` (202 {job_id}), `GET /v1/jobs/:id`, `DELETE /v1/jobs/:id` (cancel). */
export function registerJobRoutes(app: FastifyInstance, deps: JobRouteDeps): void {
  const { jobs, config } = deps;
  const s = createSchemas(config);
  const { Body, Params, JobView } = jobSchemas(s);

  app.post<{ Body: Static<typeof Body> }>(
    '/v1/jobs',
    {
      schema: {
        summary: 'Submit a job; poll GET /v1/jobs/:id or receive a signed callback',
        tags: ['jobs'],
        body: Body,
        response: {
          202: Type.Object(
            { job_id: Type.String() },
            { headers: { location: { type: 'string', description: 'The job: GET it for its status and result' } } },
          ),
          ...errorResponses(s),
        },
      },
    },
    async (request, reply) => {
      const jobId = await submitJob(jobs, request.apiKey, request.body, config);
      return reply.status(202).header('location', `/v1/jobs/${jobId}`).send({ job_id: jobId });
    },
  );

  app.get<{ Params: Static<typeof Params> }>(
    '/v1/jobs/:id',
    {
      schema: {
        summary: 'A job: status, and its result or error once finished',
        tags: ['jobs'],
        params: Params,
        response: { 200: JobView, ...errorResponses(s, READ_ERRORS) },
      },
    },
    async (request) => jobs.get(request.tenant, request.params.id),
  );

  app.delete<{ Params: Static<typeof Params> }>(
    '/v1/jobs/:id',
    {
      schema: {
        summary: 'Cancel a queued or running job (a finished job is returned as it is)',
        tags: ['jobs'],
        params: Params,
        response: { 200: JobView, ...errorResponses(s, READ_ERRORS) },
      },
    },
    async (request) => jobs.cancel(request.tenant, request.params.id),
  );
}

/** The job routes' shapes (gRPC `SubmitJob` and `GetJob` take them too): the submit body (its input checked by kind), the id, the job view. */
export function jobSchemas(s: Schemas) {
  const inputs = jobInputSchemas(s);
  const Body = Type.Object(
    {
      kind: Type.Union(
        JOB_KINDS.map((kind) => Type.Literal(kind)),
        { description: 'infer | chat (the full answer) | embed (many texts) | ingest (documents) | flow (a configured multi-step flow, its steps as progress)' },
      ),
      input: Type.Object({}, { additionalProperties: true, description: 'The input of the kind (see the kind schemas)' }),
      callback_url: Type.Optional(
        Type.String({ maxLength: 2048, description: 'POSTed the finished job, signed (x-pronto-signature); public http(s) only' }),
      ),
      idempotency_key: Type.Optional(
        Type.String({ minLength: 1, maxLength: 256, description: 'Same key from the same tenant: same job, run once' }),
      ),
      priority: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, default: DEFAULT_PRIORITY, description: '1 runs first, 10 last' })),
    },
    {
      additionalProperties: false,
      // The input schema follows from the kind; ajv reports the failing field as input.<path>.
      allOf: JOB_KINDS.map((kind) => ({
        if: { properties: { kind: { const: kind } }, required: ['kind'] },
        then: { properties: { input: inputs[kind] } },
      })),
    },
  );
  const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128, description: 'The job id from POST /v1/jobs' }) });
  const JobView = Type.Object({
    job_id: Type.String(),
    kind: Type.String(),
    status: Type.Union(['queued', 'running', 'succeeded', 'failed', 'cancelled'].map((status) => Type.Literal(status))),
    priority: Type.Integer(),
    attempts: Type.Integer(),
    result: Type.Optional(Type.Unknown({ description: 'When succeeded: the same shape as the synchronous route' })),
    error: Type.Optional(s.Error.properties.error),
    progress: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    steps: Type.Optional(Type.Array(s.Step, { description: "A flow job's steps so far, as /v1/chat's `step` events" })),
    created_at: Type.String({ format: 'date-time' }),
    started_at: Type.Optional(Type.String({ format: 'date-time' })),
    finished_at: Type.Optional(Type.String({ format: 'date-time' })),
  });
  return { Body, Params, JobView };
}

export type JobSubmission = Static<ReturnType<typeof jobSchemas>['Body']>;

/**
 * Submits a validated job for the caller's tenant. What a worker cannot check later is checked now:
 * a chat or flow job's conversation, a flow job's flow (an unknown one is the request's error, not
 * a failed job), and the namespace against the caller's key (a worker knows only the tenant).
 */
export async function submitJob(
  jobs: JobQueue,
  caller: Pick<ApiKeyRecord, 'tenant' | 'namespaces'>,
  body: JobSubmission,
  config: Pick<Config, 'sample_corpus' | 'flows'>,
): Promise<string> {
  if (body.kind === 'chat' || body.kind === 'flow') checkConversation(body.input as AnswerJobInput);
  if (body.kind === 'flow') checkFlow(config, (body.input as FlowJobInput).flow);
  if (body.kind !== 'embed') checkNamespace(caller.namespaces, (body.input as { namespace?: string }).namespace ?? config.sample_corpus.namespace);
  const { jobId } = await jobs.submit({
    tenant: caller.tenant,
    kind: body.kind as JobKind,
    input: body.input,
    callbackUrl: body.callback_url,
    idempotencyKey: body.idempotency_key,
    priority: body.priority,
  });
  return jobId;
}

/** Each kind's input: the same fields and limits as the synchronous route it mirrors. */
function jobInputSchemas(s: Schemas): Record<JobKind, TSchema> {
  const closed = { additionalProperties: false } as const;
  // A chat job answers in one go; a flow job (kind `flow`, flow required) is the one that runs a flow.
  const { stream: _stream, flow: _flow, ...chat } = s.ChatRequest.properties;
  const { flow } = Type.Required(Type.Pick(s.ChatRequest, ['flow'])).properties;
  return {
    infer: s.InferRequest,
    chat: Type.Object(chat, closed),
    embed: s.EmbedRequest,
    ingest: s.DocumentBatch,
    flow: Type.Object({ ...chat, flow }, closed),
  };
}

function checkFlow(config: Pick<Config, 'flows'>, flow: string): void {
  if (!Object.hasOwn(config.flows, flow)) {
    throw new ProntoError('unknown_flow', `flow "${flow}" is not configured`, { field: 'input.flow' });
  }
}

/** A chat job needs messages or text ending with a user turn: refuse it now, not when it runs. */
function checkConversation(input: AnswerJobInput): void {
  try {
    conversationOf(input);
  } catch (err) {
    if (!isProntoError(err)) throw err;
    throw new ProntoError(err.code, err.message, { field: `input.${err.field ?? 'messages'}` });
  }
}
