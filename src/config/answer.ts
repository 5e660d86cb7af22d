import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** How answers are shaped, whichever generator writes them (`answer` in config; docs/CONFIG.md). */
export const AnswerSchema = Type.Object(
  {
    /** The extractive reader's answer: the best sentence, then at most this many minus one that add evidence. */
    max_sentences: Type.Integer({ minimum: 1, default: 2 }),
    /** The extractive reader answers with the span, then the one sentence it comes from. */
    concise: Type.Boolean({ default: false }),
    /** How many retrieved passages a model generator (llama, openai) reads, the best first. */
    model_contexts: Type.Integer({ minimum: 1, default: 5 }),
    /** The prompt for a model generator: `{passages}` (numbered `[n]`, best first) and `{question}`. */
    prompt: Type.String({
      minLength: 1,
      default:
        'Answer the question using only these passages. Give the short answer first (a name, date or number when that is asked), ' +
        'then at most one sentence of support, and cite the passages you used as [n]. ' +
        'If the passages do not answer it, say so.\n\n{passages}\n\nQuestion: {question}\nAnswer:',
    }),
  },
  { default: {} },
);

export type AnswerConfig = Static<typeof AnswerSchema>;

export const DEFAULT_ANSWER: AnswerConfig = Value.Default(AnswerSchema, {}) as AnswerConfig;
