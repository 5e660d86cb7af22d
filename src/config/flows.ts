import { Type, type Static } from '@sinclair/typebox';
import { TOOL_NAMES } from './flow-tools.js';

/**
 * Flows as data (`flows` in config; docs/FLOWS.md): a named list of steps the orchestrator runs
 * for `/v1/chat` with `flow: NAME` and for jobs of kind `flow`. Every step runs under the
 * request's deadline with its own budget, and declares what serves when it fails or overruns.
 */

/** Common to every step: its name (events, timings, metrics, faults) and its budget. */
const StepCommon = {
  /** Shown in `step` events and as `step.<name>` in timings; defaults to the step's kind. */
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z][a-z0-9_]*$' })),
  /** The step's own budget; never more than what is left of the flow's. */
  budget_ms: Type.Optional(Type.Integer({ minimum: 1 })),
};

/**
 * What serves when a step fails or overruns: `skip` (the default) goes on without it, flagged;
 * `fail` fails the request.
 */
const OnFailure = Type.Optional(Type.Union([Type.Literal('skip'), Type.Literal('fail')]));

/** Splits a multi-part question into its parts (conjunctions, lists, several questions); deterministic. */
const RewriteStep = Type.Object(
  {
    kind: Type.Literal('rewrite'),
    ...StepCommon,
    /** At most this many parts (default 4); the rest of the question stays in the last one. */
    max_parts: Type.Optional(Type.Integer({ minimum: 1, maximum: 8 })),
  },
  { additionalProperties: false },
);

/** Retrieves contexts for each part (or the whole question) from a namespace. */
const RetrieveStep = Type.Object(
  {
    kind: Type.Literal('retrieve'),
    ...StepCommon,
    /** The request's namespace when not given. */
    namespace: Type.Optional(Type.String({ minLength: 1 })),
    mode: Type.Optional(Type.Union([Type.Literal('dense'), Type.Literal('sparse'), Type.Literal('hybrid')])),
    /** A metadata filter, as in a search request (equality, `{in: [...]}`, a range). */
    filter: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    /** Contexts kept per part; the request's `top_k` when not given. */
    top_k: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    on_failure: OnFailure,
  },
  { additionalProperties: false },
);

/** Reorders each part's contexts with the configured reranker (`pipeline.reranker`); fused order on failure. */
const RerankStep = Type.Object({ kind: Type.Literal('rerank'), ...StepCommon }, { additionalProperties: false });

/** Answers each part from the merged contexts (one numbering, so citations hold across parts). */
const GenerateStep = Type.Object(
  {
    kind: Type.Literal('generate'),
    ...StepCommon,
    max_tokens: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

const ToolName = Type.Union(TOOL_NAMES.map((name) => Type.Literal(name)));

/**
 * Calls one registered tool (src/pipeline/tools/) with these arguments, checked against the
 * tool's schema when the config loads; string arguments may hold TOOL_PLACEHOLDERS. What it finds
 * joins the contexts the answer is written from.
 */
const ToolStep = Type.Object(
  {
    kind: Type.Literal('tool'),
    ...StepCommon,
    tool: ToolName,
    arguments: Type.Record(Type.String(), Type.Unknown()),
    on_failure: OnFailure,
  },
  { additionalProperties: false },
);

/**
 * Repeats retrieve -> draft answer until the draft cites `min_citations` contexts or `max_rounds`
 * ran; each round asks for `top_k` more contexts than the last. The last draft is the answer when
 * nothing after the loop adds contexts (else the `generate` step writes it again).
 */
const LoopStep = Type.Object(
  {
    kind: Type.Literal('loop'),
    ...StepCommon,
    /** Default 3. */
    max_rounds: Type.Optional(Type.Integer({ minimum: 1, maximum: 8 })),
    /** Default 2. */
    min_citations: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
    namespace: Type.Optional(Type.String({ minLength: 1 })),
    mode: Type.Optional(Type.Union([Type.Literal('dense'), Type.Literal('sparse'), Type.Literal('hybrid')])),
    filter: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    /** Contexts added per round; the request's `top_k` when not given. */
    top_k: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    /** Tokens per draft; the flow's generate step's when not given. */
    max_tokens: Type.Optional(Type.Integer({ minimum: 1 })),
    on_failure: OnFailure,
  },
  { additionalProperties: false },
);

/**
 * What a `branch` tests, one key: the best context's score so far below a number (no context:
 * true); fewer contexts than a number; whether the latest draft (a loop's) abstained; the
 * question's type (`multi_part`: it splits into parts; `yes_no`; `open`: anything else).
 */
const BranchCondition = Type.Union([
  Type.Object({ top_score_below: Type.Number() }, { additionalProperties: false }),
  Type.Object({ contexts_below: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
  Type.Object({ abstained: Type.Boolean() }, { additionalProperties: false }),
  Type.Object(
    { question_type: Type.Union([Type.Literal('multi_part'), Type.Literal('yes_no'), Type.Literal('open')]) },
    { additionalProperties: false },
  ),
]);

/**
 * Asks a generator that calls tools (TOOL_CALLING_BACKENDS) to gather evidence: it calls the
 * listed tools (search and fetch limited to `namespaces`) until it answers, `max_calls` tool
 * calls ran or its calls used `token_budget` tokens. What the tools found joins the contexts.
 */
const PlanStep = Type.Object(
  {
    kind: Type.Literal('plan'),
    ...StepCommon,
    /** The generator that plans (a model with tool calls); default `pipeline.generator`. */
    model: Type.Optional(Type.String({ minLength: 1 })),
    /** Default every tool. */
    tools: Type.Optional(Type.Array(ToolName, { minItems: 1, uniqueItems: true })),
    /** The namespaces its searches and fetches may name; default the request's. */
    namespaces: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    /** The step limit: tool calls in all (default 4). */
    max_calls: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 })),
    /** The token budget: prompt and completion tokens of the planner's calls together (default 2048). */
    token_budget: Type.Optional(Type.Integer({ minimum: 1 })),
    on_failure: OnFailure,
  },
  { additionalProperties: false },
);

/** The steps a branch may take: any but `generate` and another `branch` (branches do not nest). */
const BranchedStep = Type.Union([RewriteStep, RetrieveStep, RerankStep, ToolStep, LoopStep, PlanStep]);

/** Runs `then` when the condition holds, else `else` (nothing when absent). */
const BranchStep = Type.Object(
  {
    kind: Type.Literal('branch'),
    ...StepCommon,
    if: BranchCondition,
    then: Type.Array(BranchedStep, { minItems: 1, maxItems: 16 }),
    else: Type.Optional(Type.Array(BranchedStep, { maxItems: 16 })),
  },
  { additionalProperties: false },
);

/** Each step's schema by its kind (config/flow-checks.ts names a bad step's problem from it). */
export const STEP_SCHEMAS = {
  rewrite: RewriteStep,
  retrieve: RetrieveStep,
  rerank: RerankStep,
  generate: GenerateStep,
  tool: ToolStep,
  loop: LoopStep,
  branch: BranchStep,
  plan: PlanStep,
};

export const FlowStepSchema = Type.Union([RewriteStep, RetrieveStep, RerankStep, GenerateStep, ToolStep, LoopStep, BranchStep, PlanStep]);

export const FlowSchema = Type.Object(
  {
    description: Type.Optional(Type.String()),
    /**
     * The time the steps before `generate` may take together; when it runs out mid-step, that step
     * stops and the answer is written from the contexts found so far (flagged `budget_exhausted`).
     * Default 4000 (FLOW_DEFAULTS).
     */
    budget_ms: Type.Optional(Type.Integer({ minimum: 1 })),
    steps: Type.Array(FlowStepSchema, { minItems: 1, maxItems: 32 }),
  },
  { additionalProperties: false },
);

/**
 * Defaults of the optional step and flow settings. (TypeBox's Value.Default does not reach into
 * the members of a record of unions, so the orchestrator applies these where it reads them.)
 */
export const FLOW_DEFAULTS = {
  budget_ms: 4000,
  max_parts: 4,
  on_failure: 'skip',
  max_rounds: 3,
  min_citations: 2,
  max_calls: 4,
  token_budget: 2048,
} as const;

/** The embedded default: the deterministic planner (split, retrieve per part, answer each with citations). */
const DEFAULT_FLOWS = {
  decompose: {
    description: 'Split a multi-part question, retrieve per part, answer each part with citations',
    budget_ms: 4000,
    steps: [{ kind: 'rewrite' }, { kind: 'retrieve' }, { kind: 'rerank' }, { kind: 'generate' }],
  },
};

export const FlowsSchema = Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_-]{0,63}$' }), FlowSchema, { default: DEFAULT_FLOWS });

export type FlowConfig = Static<typeof FlowSchema>;
export type FlowStepConfig = Static<typeof FlowStepSchema>;
export type BranchConditionConfig = Static<typeof BranchCondition>;
export type StepKind = FlowStepConfig['kind'];
export type FlowsConfig = Static<typeof FlowsSchema>;
