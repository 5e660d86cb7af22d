/**
 * What a batch costs a model: `base + perUnit × units`, where a unit is a bounded piece of work
 * (a token of input for text models, an item otherwise), fitted by exponentially weighted least
 * squares over recent batches (recent ones count most, so a model that slows down is noticed within
 * a few batches). Admission control uses it to tell how long queued work will take.
 *
 * Measuring in units rather than items keeps one huge input from teaching the model that every
 * item is huge; and each observation is first clamped to within `OUTLIER_FACTOR` of what the model
 * already predicts, so a single outlier (a GC pause, a stalled host) moves the estimate by a bounded
 * step while a lasting change still wins within a few batches.
 */
export class BatchCostModel {
  private w = 0;
  private sx = 0;
  private sy = 0;
  private sxx = 0;
  private sxy = 0;
  private seen = 0;

  /** `decay`: the weight an observation keeps per newer one. */
  constructor(private readonly decay = 0.9) {}

  observe(units: number, ms: number): void {
    const predicted = this.seen >= MIN_OBSERVATIONS_TO_CLAMP ? this.estimate(units) : undefined;
    const y = predicted === undefined || predicted <= 0 ? ms : Math.min(predicted * OUTLIER_FACTOR, Math.max(predicted / OUTLIER_FACTOR, ms));
    const d = this.decay;
    this.seen++;
    this.w = this.w * d + 1;
    this.sx = this.sx * d + units;
    this.sy = this.sy * d + y;
    this.sxx = this.sxx * d + units * units;
    this.sxy = this.sxy * d + units * y;
  }

  /**
   * The expected cost of one batch of `units`, undefined before any observation. While every
   * batch seen had about the same size the cost is taken as proportional to units.
   */
  estimate(units: number): number | undefined {
    const fit = this.fit();
    return fit && fit.base + fit.perUnit * units;
  }

  /** The fitted line, or undefined before any observation. */
  fit(): { base: number; perUnit: number } | undefined {
    if (this.w === 0) return undefined;
    const mx = this.sx / this.w;
    const my = this.sy / this.w;
    const vx = this.sxx / this.w - mx * mx;
    if (vx < 0.25 * Math.max(1, mx)) return { base: 0, perUnit: my / Math.max(1, mx) };
    const perUnit = Math.max(0, (this.sxy / this.w - mx * my) / vx);
    return { base: Math.max(0, my - perUnit * mx), perUnit };
  }
}

/** An observation counts for at most this factor above or below the current prediction. */
const OUTLIER_FACTOR = 4;
/** Until this many batches were seen (warmup included) every observation counts in full. */
const MIN_OBSERVATIONS_TO_CLAMP = 3;
