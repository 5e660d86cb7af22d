import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ProntoError } from '../../core/errors.js';
import type { FeedbackSink } from '../../observability/feedback.js';
import { summariseFeedback } from '../../observability/feedback-summary.js';
import { errorResponses, READ_ERRORS, type Schemas } from '../schemas.js';

const DAY_S = 86_400;
const MAX_WINDOW_S = 30 * DAY_S;

/** `GET /v1/feedback/summary`: the caller's tenant's feedback per variant and rating over a window. */
export function registerFeedbackSummaryRoute(app: FastifyInstance, deps: { feedback: FeedbackSink }, s: Schemas): void {
  const Query = Type.Object(
    // A query string is text (validation does not coerce): digits here, the range in the handler.
    { window_s: Type.String({ pattern: '^[1-9][0-9]{0,6}$', default: String(DAY_S), description: `How far back, in seconds: 1 to ${MAX_WINDOW_S} (default a day)` }) },
    { additionalProperties: false },
  );
  const VariantFeedback = Type.Object(
    {
      variant: s.Variant,
      count: Type.Integer(),
      mean_rating: Type.Number(),
      ratings: Type.Record(Type.String(), Type.Integer(), { description: 'Rating as sent (-1, 1..5) -> count' }),
    },
    { title: 'VariantFeedback' },
  );
  app.get<{ Querystring: Static<typeof Query> }>(
    '/v1/feedback/summary',
    {
      schema: {
        summary: "Feedback per variant and rating over a window (the caller's tenant only)",
        description: 'Counts the newest 10,000 feedback records kept (all tenants): a longer window than they cover counts only those.',
        tags: ['answers'],
        querystring: Query,
        response: {
          200: Type.Object({ window_s: Type.Integer(), since: Type.String({ format: 'date-time' }), variants: Type.Array(VariantFeedback) }),
          ...errorResponses(s, READ_ERRORS),
        },
      },
    },
    async (request) => {
      const window_s = Number(request.query.window_s);
      if (window_s > MAX_WINDOW_S) throw new ProntoError('invalid_input', `window_s must be at most ${MAX_WINDOW_S} (30 days)`, { field: 'window_s' });
      const sinceMs = Date.now() - window_s * 1000;
      const records = await deps.feedback.since(request.tenant, sinceMs);
      return { window_s, since: new Date(sinceMs).toISOString(), variants: summariseFeedback(records) };
    },
  );
}
