/**
 * An exponentially decaying event rate (events per millisecond over roughly the last `windowMs`).
 * The batcher uses it to guess whether more items will arrive within its wait window. Written by
 * hand because it is six lines; the libraries that do this carry whole metrics systems.
 */
export class DecayingRate {
  private rate = 0;
  private lastAt = performance.now();

  constructor(private readonly windowMs: number) {}

  record(count: number, now = performance.now()): void {
    this.rate = this.perMs(now) + count / this.windowMs;
    this.lastAt = now;
  }

  perMs(now = performance.now()): number {
    return this.rate * Math.exp(-(now - this.lastAt) / this.windowMs);
  }
}

/** An exponentially weighted moving average that starts at the first sample. */
export class Ewma {
  private current?: number;

  constructor(private readonly alpha: number) {}

  add(sample: number): void {
    this.current = this.current === undefined ? sample : this.current + this.alpha * (sample - this.current);
  }

  get value(): number | undefined {
    return this.current;
  }
}
