import { Value } from '@sinclair/typebox/value';
import type { ConfigProblem } from '../core/errors.js';
import { TOOL_ARGUMENTS, TOOL_CALLING_BACKENDS } from './flow-tools.js';
import { STEP_SCHEMAS, type FlowConfig, type FlowsConfig, type FlowStepConfig } from './flows.js';
import type { ModelConfig } from './models.js';

/**
 * What the flow schema cannot say, checked when the config loads so a bad flow stops the start
 * with its flow and step named: a flow ends with its one `generate` step; a `tool` step's
 * arguments fit the tool's schema; a `plan` step's model is a generator that calls tools.
 */
export function flowProblems(flows: FlowsConfig, models: Map<string, ModelConfig>, defaultGenerator: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [name, flow] of Object.entries(flows)) {
    problems.push(...shapeProblems(name, flow));
    flow.steps.forEach((step, i) => problems.push(...stepProblems(`flows.${name}.steps.${i}`, name, step, models, defaultGenerator)));
  }
  return problems;
}

/** A flow answers once, at its end: exactly one `generate` step, the last. */
function shapeProblems(name: string, flow: FlowConfig): ConfigProblem[] {
  const generates = flow.steps.filter((step) => step.kind === 'generate').length;
  if (generates === 1 && flow.steps[flow.steps.length - 1].kind === 'generate') return [];
  return [{ key: `flows.${name}.steps`, message: `flow "${name}" must end with one generate step (and have no other)` }];
}

function stepProblems(
  key: string,
  flow: string,
  step: FlowStepConfig,
  models: Map<string, ModelConfig>,
  defaultGenerator: string,
): ConfigProblem[] {
  const named = `flow "${flow}", step "${step.name ?? step.kind}"`;
  switch (step.kind) {
    case 'tool': {
      const schema = TOOL_ARGUMENTS[step.tool];
      const error = Value.Errors(schema, step.arguments).First();
      if (!error) return [];
      const where = error.path ? `arguments${error.path.replaceAll('/', '.')}` : 'arguments';
      return [{ key: `${key}.${where}`, message: `${named}: ${step.tool} ${where}: ${error.message}` }];
    }
    case 'plan': {
      const modelName = step.model ?? defaultGenerator;
      const model = models.get(modelName);
      let message: string | undefined;
      if (!model) message = `no model named "${modelName}" in models`;
      else if (model.role !== 'generator') message = `model "${modelName}" is a ${model.role}, not a generator`;
      else if (!(TOOL_CALLING_BACKENDS as readonly string[]).includes(model.backend)) {
        message = `model "${modelName}" (backend ${model.backend}) does not call tools; the planner needs one of: ${TOOL_CALLING_BACKENDS.join(', ')}`;
      }
      return message ? [{ key: `${key}.model`, message: `${named}: ${message}` }] : [];
    }
    case 'branch':
      return [
        ...step.then.flatMap((inner, i) => stepProblems(`${key}.then.${i}`, flow, inner, models, defaultGenerator)),
        ...(step.else ?? []).flatMap((inner, i) => stepProblems(`${key}.else.${i}`, flow, inner, models, defaultGenerator)),
      ];
    default:
      return [];
  }
}

/**
 * A step that does not fit its schema, named by flow, step and field: the flow schema's union of
 * step kinds would only say "Expected union value" for the whole step. Each step is checked
 * against the schema of its own `kind`; a branch's steps one by one.
 */
export function flowSchemaProblems(flows: unknown): ConfigProblem[] {
  if (!flows || typeof flows !== 'object') return [];
  const problems: ConfigProblem[] = [];
  for (const [name, flow] of Object.entries(flows as Record<string, { steps?: unknown }>)) {
    if (!Array.isArray(flow?.steps)) continue;
    flow.steps.forEach((step, i) => problems.push(...stepSchemaProblems(`flows.${name}.steps.${i}`, name, step, false)));
  }
  return problems;
}

function stepSchemaProblems(key: string, flow: string, step: unknown, inBranch: boolean): ConfigProblem[] {
  const record = (step ?? {}) as Record<string, unknown>;
  const named = `flow "${flow}", step "${typeof record.name === 'string' ? record.name : String(record.kind)}"`;
  const kinds = Object.keys(STEP_SCHEMAS).filter((kind) => !inBranch || (kind !== 'generate' && kind !== 'branch'));
  if (typeof record.kind !== 'string' || !kinds.includes(record.kind)) {
    const why = inBranch && (record.kind === 'generate' || record.kind === 'branch') ? 'a branch may not hold a generate or branch step' : `kind must be one of ${kinds.join(', ')}`;
    return [{ key: `${key}.kind`, message: `${named}: ${why}; got ${JSON.stringify(record.kind)}` }];
  }
  const schema = STEP_SCHEMAS[record.kind as keyof typeof STEP_SCHEMAS];
  const problems: ConfigProblem[] = [];
  for (const error of Value.Errors(schema, step)) {
    if (record.kind === 'branch' && /^\/(then|else)\/\d/.test(error.path)) continue;
    const where = error.path.slice(1).replaceAll('/', '.');
    const message =
      where === 'if' || where.startsWith('if.')
        ? 'if must be one of {top_score_below: n}, {contexts_below: n}, {abstained: bool}, {question_type: multi_part|yes_no|open}'
        : where === 'tool'
          ? `tool ${JSON.stringify(record.tool)} is not one of ${Object.keys(TOOL_ARGUMENTS).join(', ')}`
          : `${where || 'step'}: ${error.message}`;
    problems.push({ key: where ? `${key}.${where}` : key, message: `${named}: ${message}` });
    break;
  }
  if (record.kind === 'branch') {
    for (const way of ['then', 'else']) {
      const steps = record[way];
      if (Array.isArray(steps)) steps.forEach((inner, i) => problems.push(...stepSchemaProblems(`${key}.${way}.${i}`, flow, inner, true)));
    }
  }
  return problems;
}
