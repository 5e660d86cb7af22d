import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { ProntoError } from '../../core/errors.js';
import { createRequestContext } from '../../pipeline/context.js';
import type { RequestContext } from '../../pipeline/types.js';
import { liveAnswerEvents, type AnswerEvent } from '../answer-stream.js';
import { checkBodyBytes, shapeRequest } from '../front/request-shaping.js';
import { fieldFromPointer } from '../front/validation.js';
import { toProntoError } from '../plugins/errors.js';
import { chooseVariant, type VariantSeat } from '../plugins/request-context.js';
import type { PipelineRouteDeps } from '../route-deps.js';
import { answerFor, type AnswerRequestBody } from '../../api/answers.js';
import { errorResponses, READ_ERRORS, type Schemas } from '../schemas.js';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * `GET /v1/chat/ws`: the chat stream over WebSocket. Each text frame is one chat request (the
 * `/v1/chat` body); the server answers with frames `{type:"step"|"contexts"|"token"|"done"|"error", ...}`.
 * Requests on one socket run one after another; closing the socket cancels the one running.
 */
export function registerChatWebSocketRoute(app: FastifyInstance, deps: PipelineRouteDeps & { variants: VariantSeat }, s: Schemas): void {
  const { config, pipeline } = deps;
  const check = TypeCompiler.Compile(s.ChatRequest);

  const schema = {
    summary: 'Chat over WebSocket (same events as /v1/chat)',
    description:
      'Upgrade with `Connection: Upgrade`, `Upgrade: websocket`. Send each chat request as one text frame holding a ChatRequest (the /v1/chat body). ' +
      'The server answers with JSON text frames (with `flow`, first `{"type":"step","name":...,"status":...}` per step of the flow), `{"type":"contexts","contexts":[...]}`, `{"type":"token","text":"..."}` per piece of the answer, ' +
      'then `{"type":"done","usage":{...},"timings":{...},"degraded":[...],"citations":[...]}`, or `{"type":"error","error":{code,message,field?}}`. ' +
      'Requests on one socket run one after another; closing the socket cancels the one running.',
    tags: ['answers'],
    response: {
      101: { type: 'null', description: 'Switching Protocols: the socket carries the chat frames described above' },
      ...errorResponses(s, READ_ERRORS),
      404: { type: 'null', description: 'A plain GET, not a WebSocket upgrade' },
    },
  };
  // The socket holds one stream slot of its key while it is open, whatever it carries.
  app.get('/v1/chat/ws', { websocket: true, schema, config: { stream: () => true } }, (socket: WebSocket, request) => {
    let current: RequestContext | undefined;
    let queue = Promise.resolve();
    const send = (event: AnswerEvent) => {
      if (socket.readyState === socket.OPEN) socket.send(JSON.stringify({ type: event.type, ...event.data }));
    };
    socket.on('close', () => current?.deadline.cancel());
    socket.on('message', (raw: Buffer, isBinary: boolean) => {
      queue = queue.then(async () => {
        let ctx: RequestContext | undefined;
        try {
          checkBodyBytes(request.apiKey, raw.length);
          const body = parseFrame(raw, isBinary, check);
          shapeRequest(request.apiKey, body);
          // Each frame is a request of its own: its variant is chosen as an HTTP chat request's.
          const variant = chooseVariant(request, deps.variants, body);
          const frameCtx = createRequestContext({ logger: request.log, tenant: request.tenant, namespaces: request.apiKey.namespaces, tokenBudget: request.ctx?.tokenBudget, variant, deadlineMs: config.deadline.default_ms });
          current = ctx = frameCtx;
          // A socket has no status line to hold back: each step goes out as it ends, as over SSE.
          for await (const event of liveAnswerEvents((onStep) => answerFor(pipeline, body, config, frameCtx, onStep), frameCtx)) send(event);
        } catch (err) {
          send({ type: 'error', data: toProntoError(err).toBody() });
        } finally {
          ctx?.deadline.dispose();
          current = undefined;
        }
      });
    });
  });
}

function parseFrame(raw: Buffer, isBinary: boolean, check: ReturnType<typeof TypeCompiler.Compile>) {
  if (isBinary) throw new ProntoError('invalid_input', 'Send requests as text frames of JSON');
  let body: unknown;
  try {
    body = JSON.parse(strictUtf8.decode(raw));
  } catch {
    throw new ProntoError('invalid_json', 'The frame is not valid UTF-8 JSON');
  }
  const issue = check.Errors(body).First();
  if (issue) {
    const field = fieldFromPointer(issue.path) || 'body';
    throw new ProntoError('invalid_input', `${field}: ${issue.message}`, { field });
  }
  return body as AnswerRequestBody;
}
