/**
 * What a batch of n items costs a model: `base + perItem × n`, fitted by exponentially weighted
 * least squares over recent batches (recent ones count most, so a model that slows down is
 * noticed within a few batches). Admission control uses it to tell how long queued work will
 * take; a per-item average alone would be badly wrong for batched models, where a batch of 64
 * costs far less than 64 batches of one.
 */
export class BatchCostModel {
  private w = 0;
  private sx = 0;
  private sy = 0;
  private sxx = 0;
  private sxy = 0;

  /** `decay`: the weight an observation keeps per newer one. */
  constructor(private readonly decay = 0.95) {}

  observe(size: number, ms: number): void {
    const d = this.decay;
    this.w = this.w * d + 1;
    this.sx = this.sx * d + size;
    this.sy = this.sy * d + ms;
    this.sxx = this.sxx * d + size * size;
    this.sxy = this.sxy * d + size * ms;
  }

  /**
   * The expected cost of a batch of `size` items, undefined before any observation. While every
   * batch seen had about the same size, the cost is taken as flat (an underestimate for bigger
   * batches, which admits rather than refuses until larger batches have been seen).
   */
  estimate(size: number): number | undefined {
    if (this.w === 0) return undefined;
    const mx = this.sx / this.w;
    const my = this.sy / this.w;
    const vx = this.sxx / this.w - mx * mx;
    if (vx < 0.25) return my;
    const perItem = Math.max(0, (this.sxy / this.w - mx * my) / vx);
    const base = Math.max(0, my - perItem * mx);
    return base + perItem * size;
  }
}
