/** What the dashboard's request view shows of one answered request: no body text at all. */
export interface RequestSummary {
  request_id: string;
  /** Epoch ms when it arrived. */
  at: number;
  tenant: string;
  method: string;
  route: string;
  status: number;
  latency_ms: number;
  /** Stage -> ms, in the order the stages ran. */
  timings: Record<string, number>;
  /** Stages that ran their fallback: what failed, why and what served instead. */
  degraded: Array<{ stage: string; reason: string; fallback: string }>;
  trace_id?: string;
  variant?: string;
  /** A multi-step flow's steps, in order (the waterfall's rows). */
  steps?: StepSummary[];
}

/** A flow step as the request view shows it: its time, outcome and what it found, not the question's text. */
export interface StepSummary {
  name: string;
  kind: string;
  status: string;
  /** When the step started, in ms from the request's start. */
  start_ms: number;
  ms: number;
  part?: number;
  /** The context ids it found, best first. */
  ids?: string[];
  degraded?: Array<{ stage: string; reason: string; fallback: string }>;
}

/** The last `capacity` requests, newest first, for the dashboard (a tenant sees only its own). */
export class RecentRequests {
  private readonly items: RequestSummary[] = [];

  constructor(private readonly capacity = 200) {}

  add(summary: RequestSummary): void {
    this.items.unshift(summary);
    if (this.items.length > this.capacity) this.items.pop();
  }

  list(tenant: string, limit: number): RequestSummary[] {
    return this.items.filter((r) => r.tenant === tenant).slice(0, limit);
  }

  get(tenant: string, requestId: string): RequestSummary | undefined {
    return this.items.find((r) => r.tenant === tenant && r.request_id === requestId);
  }
}
