import { Type, type TSchema } from '@sinclair/typebox';
import type { ApiKeyRecord } from '../../config/auth.js';
import type { JobView } from '../../jobs/types.js';
import { answerInputFrom, collectAnswer, presentHit, searchInputFrom, pipelineReport, type AnswerRequestBody, type SearchRequestBody } from '../../api/answers.js';
import type { Runtime } from '../../runtime.js';
import { answerEvents, startAnswer } from '../answer-stream.js';
import { shapeRequest } from '../front/request-shaping.js';
import { createBodyValidator } from '../front/validation.js';
import { jobSchemas, submitJob, type JobSubmission } from '../routes/jobs.js';
import { createSchemas } from '../schemas.js';
import type { createCallWrappers } from './calls.js';
import { jsonFromStruct, structFromJson, valueFromJson, type ProtoStruct } from './struct.js';

type Wrappers = ReturnType<typeof createCallWrappers>;
type ProtoRequest = Record<string, unknown>;

/** The service's full name, and each method's path (the `route` label of the request metrics). */
export const SERVICE = 'pronto.v1.Pronto';
const path = (method: string) => `/${SERVICE}/${method}`;

/** The methods whose HTTP twins pipeline variants split (A/B, canary): they are split alike. */
const SPLIT = { split: true } as const;

/** Fields that are Structs on the wire and free-form JSON in the API. */
const STRUCT_FIELDS = ['filter', 'input'];

/**
 * pronto.v1.Pronto's methods: each turns the proto request into the JSON body of its HTTP twin,
 * validates it with the same schema, runs the same pipeline call and shapes the answer as the
 * route does, then as the proto message. Nothing here decides anything the HTTP side decides.
 */
export function createMethods(runtime: Runtime, wrap: Wrappers) {
  const { config, pipeline, jobs } = runtime;
  const s = createSchemas(config);
  const compile = createBodyValidator();
  // Validated as its HTTP twin's body, then shaped by the caller key's caps as the HTTP route's is.
  const bodyOf = <T>(schema: TSchema) => {
    const validate = compile<T>(schema);
    return (request: ProtoRequest, key: ApiKeyRecord) => {
      const body = validate(jsonBody(request));
      shapeRequest(key, body);
      return body;
    };
  };
  const infer = bodyOf<AnswerRequestBody>(s.InferRequest);
  const chat = bodyOf<AnswerRequestBody>(s.ChatRequest);
  const search = bodyOf<SearchRequestBody>(s.SearchRequest);
  const embed = bodyOf<{ texts: string[]; model?: string }>(s.EmbedRequest);
  const { Body: Submission, Params } = jobSchemas(s);
  const submission = bodyOf<JobSubmission>(Submission);
  const jobId = bodyOf<{ job_id: string }>(Type.Object({ job_id: Params.properties.id }, { additionalProperties: false }));

  return {
    Infer: wrap.unary<ProtoRequest, unknown>(
      path('Infer'),
      async (request, ctx, key) => {
        const answer = await collectAnswer(pipeline.answer(answerInputFrom(infer(request, key), config), ctx), ctx);
        return { ...answer, contexts: answer.contexts.map(hitMessage) };
      },
      SPLIT,
    ),

    Chat: wrap.serverStream<ProtoRequest, unknown>(path('Chat'), async (request, ctx, key, send) => {
      const answer = pipeline.answer(answerInputFrom(chat(request, key), config), ctx);
      for await (const event of answerEvents(await startAnswer(answer), ctx)) {
        if (event.type === 'error' && event.error) throw event.error;
        if (event.type === 'contexts') await send({ contexts: { contexts: (event.data.contexts as ReturnType<typeof presentHit>[]).map(hitMessage) } });
        if (event.type === 'token') await send({ token: event.data });
        if (event.type === 'done') await send({ done: event.data });
      }
    }, SPLIT),

    Search: wrap.unary<ProtoRequest, unknown>(
      path('Search'),
      async (request, ctx, key) => {
        const result = await pipeline.search(searchInputFrom(search(request, key), config), ctx);
        return { hits: result.hits.map((hit) => hitMessage(presentHit(hit))), ...pipelineReport(ctx) };
      },
      SPLIT,
    ),

    Embed: wrap.unary<ProtoRequest, unknown>(path('Embed'), async (request, ctx, key) => {
      const result = await pipeline.embed(embed(request, key), ctx);
      return { embeddings: result.vectors.map((vector) => ({ values: Array.from(vector) })), model: result.model, tokens: result.tokens };
    }),

    SubmitJob: wrap.unary<ProtoRequest, unknown>(path('SubmitJob'), async (request, _ctx, key) => ({
      job_id: await submitJob(jobs, key, submission(request, key), runtime.config),
    })),

    GetJob: wrap.unary<ProtoRequest, unknown>(path('GetJob'), async (request, _ctx, key) => jobMessage(await jobs.get(key.tenant, jobId(request, key).job_id))),
  };
}

/** The proto request as the JSON body its HTTP twin takes: Structs become plain objects. */
function jsonBody(request: ProtoRequest): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(request)) {
    // The request message is level 1 of the body, its Struct fields level 2.
    body[key] = STRUCT_FIELDS.includes(key) && value ? jsonFromStruct(value as ProtoStruct, 2) : value;
  }
  return body;
}

function hitMessage(hit: ReturnType<typeof presentHit>) {
  return { ...hit, metadata: structFromJson(hit.metadata ?? {}) };
}

function jobMessage(job: JobView) {
  return {
    ...job,
    result: job.result === undefined ? undefined : valueFromJson(job.result),
    steps: job.steps === undefined ? undefined : valueFromJson(job.steps),
  };
}
