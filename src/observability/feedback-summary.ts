import type { FeedbackRecord } from './feedback.js';

export interface VariantFeedback {
  variant: string;
  count: number;
  mean_rating: number;
  /** Rating (as sent: -1, 1..5) -> how many. */
  ratings: Record<string, number>;
}

/** Feedback counted per variant and rating, with each variant's mean rating (variants by name). */
export function summariseFeedback(records: readonly FeedbackRecord[]): VariantFeedback[] {
  const byVariant = new Map<string, { count: number; sum: number; ratings: Record<string, number> }>();
  for (const { variant, rating } of records) {
    let entry = byVariant.get(variant);
    if (!entry) byVariant.set(variant, (entry = { count: 0, sum: 0, ratings: {} }));
    entry.count += 1;
    entry.sum += rating;
    entry.ratings[rating] = (entry.ratings[rating] ?? 0) + 1;
  }
  return [...byVariant]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([variant, { count, sum, ratings }]) => ({ variant, count, mean_rating: Math.round((sum / count) * 1000) / 1000, ratings }));
}
