import { Type } from '@sinclair/typebox';
import type { Schemas } from '../schemas.js';

/**
 * The OpenAI-compatible response shapes, for serialization and the OpenAPI document.
 * (A catalogue of shape declarations, long as a list is long; no logic.)
 */
export function openAISchemas(s: Schemas) {
  const Usage = Type.Object(
    { prompt_tokens: Type.Integer(), completion_tokens: Type.Integer(), total_tokens: Type.Integer() },
    { title: 'CompletionUsage' },
  );
  const FinishReason = Type.Union([Type.Literal('stop'), Type.Literal('length'), Type.Literal('tool_calls')]);
  const ToolCall = Type.Object(
    {
      id: Type.String(),
      type: Type.Literal('function'),
      function: Type.Object({ name: Type.String(), arguments: Type.String({ description: 'JSON text, fitting the tool\'s parameters' }) }),
    },
    { title: 'ChatCompletionToolCall' },
  );
  const ProntoExtras = Type.Object(
    {
      generator: Type.String({ description: 'The generator that answered (a fallback when degraded)' }),
      citations: Type.Array(Type.String()),
      latency_ms: Type.Number(),
      timings: s.Timings,
      degraded: s.Degraded,
      variant: s.Variant,
      steps: Type.Optional(Type.Array(s.Step, { description: 'With a `pronto-flow:NAME` model: the flow\'s steps' })),
    },
    { title: 'ProntoCompletionReport', description: "pronto's extras: not part of OpenAI's shape" },
  );
  const ChatCompletion = Type.Object(
    {
      id: Type.String(),
      object: Type.Literal('chat.completion'),
      created: Type.Integer(),
      model: Type.String({ description: 'The model asked for' }),
      choices: Type.Array(
        Type.Object({
          index: Type.Integer(),
          message: Type.Object({
            role: Type.Literal('assistant'),
            content: Type.Union([Type.String(), Type.Null()], { description: 'null when the model only called tools' }),
            tool_calls: Type.Optional(Type.Array(ToolCall)),
          }),
          finish_reason: FinishReason,
          logprobs: Type.Null(),
        }),
      ),
      usage: Usage,
      pronto: ProntoExtras,
    },
    { title: 'ChatCompletion' },
  );
  const ChatCompletionChunk = Type.Object(
    {
      id: Type.String(),
      object: Type.Literal('chat.completion.chunk'),
      created: Type.Integer(),
      model: Type.String(),
      choices: Type.Array(
        Type.Object({
          index: Type.Integer(),
          delta: Type.Object({
            role: Type.Optional(Type.Literal('assistant')),
            content: Type.Optional(Type.String()),
            tool_calls: Type.Optional(Type.Array(Type.Composite([Type.Object({ index: Type.Integer() }), ToolCall]))),
          }),
          finish_reason: Type.Union([FinishReason, Type.Null()]),
          logprobs: Type.Null(),
        }),
      ),
      usage: Type.Optional(Usage),
      pronto: Type.Optional(
        Type.Union([ProntoExtras, Type.Object({ step: s.Step }, { title: 'ProntoStepChunk', description: 'A flow step, in a chunk whose delta is empty' })]),
      ),
    },
    {
      title: 'ChatCompletionChunk',
      description:
        'One `data:` line of the stream; the stream ends with `data: [DONE]`. With a `pronto-flow:NAME` model, each step of the flow comes first as it ends, ' +
        'in a chunk with an empty `delta` and the step in `pronto.step` (OpenAI clients skip it). A failure after streaming began is a `data:` line holding {error}.',
    },
  );
  const Model = Type.Object(
    {
      id: Type.String(),
      object: Type.Literal('model'),
      created: Type.Integer(),
      owned_by: Type.String(),
      role: Type.String({ description: 'embedder, reranker, generator, rag (the whole pipeline) or flow (`pronto-flow:NAME`: a configured flow)' }),
      backend: Type.String(),
    },
    { title: 'Model' },
  );
  const Embedding = Type.Object(
    {
      object: Type.Literal('embedding'),
      index: Type.Integer(),
      embedding: Type.Union([Type.Array(Type.Number()), Type.String({ description: 'base64 of little-endian float32' })]),
    },
    { title: 'Embedding' },
  );
  const EmbeddingList = Type.Object(
    {
      object: Type.Literal('list'),
      data: Type.Array(Embedding),
      model: Type.String(),
      usage: Type.Object({ prompt_tokens: Type.Integer(), total_tokens: Type.Integer() }),
    },
    { title: 'CreateEmbeddingResponse' },
  );
  return { ChatCompletion, ChatCompletionChunk, Model, EmbeddingList };
}
