import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/core/errors.js';
import { metricValue, readSse, startTestServer, type TestServer } from '../support/server.js';

/**
 * The `tool`, `loop` and `branch` steps of a flow (docs/FLOWS.md) on a real server: tools that
 * search another namespace, fetch a document by id (never another tenant's) and read the
 * user's features; a loop that drafts until the draft cites enough; branches on the question's
 * type and on retrieval scores; a flow whose budget runs out after a tool found something
 * answering from it, flagged; and flows refused at load with the flow and step named.
 */

const KEY_A = 'flow-steps-key-a';
const KEY_B = 'flow-steps-key-b';
const A = { authorization: `Bearer ${KEY_A}` };
const B = { authorization: `Bearer ${KEY_B}` };

interface Event {
  type: string;
  [field: string]: any;
}

async function chat(server: TestServer, body: unknown, headers = A): Promise<Event[]> {
  const res = await server.post('/v1/chat', body, headers);
  assert.equal(res.status, 200, await res.clone().text());
  const events: Event[] = [];
  for await (const { event, data } of readSse(res)) events.push({ type: event, ...data });
  return events;
}

const stepsOf = (events: Event[]) => events.filter((e) => e.type === 'step');
const contextIdsOf = (events: Event[]) => events.find((e) => e.type === 'contexts')!.contexts.map((c: { id: string }) => c.id) as string[];

describe('flow steps: tool, loop, branch', () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pronto-flow-steps-'));
    const users = join(dir, 'users.json');
    writeFileSync(users, JSON.stringify({ 'user-7': { tier: 'pro', region: 'eu' } }));
    server = await startTestServer({
      auth: { api_keys: [{ key: KEY_A, tenant: 'team-a' }, { key: KEY_B, tenant: 'team-b' }] },
      features: { file: users, fields: ['tier', 'region'] },
      flows: {
        with_tools: {
          steps: [
            { kind: 'retrieve', mode: 'sparse', top_k: 2 },
            { kind: 'tool', name: 'whole_doc', tool: 'fetch_document', arguments: { namespace: '{namespace}', doc_id: '{top_doc_id}' } },
            { kind: 'tool', name: 'notes', tool: 'search_namespace', arguments: { namespace: 'notes', query: 'ask ops@example.com about {question}' } },
            { kind: 'tool', name: 'profile', tool: 'lookup_features', arguments: { user_id: '{user_id}' } },
            { kind: 'generate' },
          ],
        },
        fetch_pinned: {
          steps: [{ kind: 'tool', tool: 'fetch_document', arguments: { namespace: 'notes', doc_id: 'otters' } }, { kind: 'generate' }],
        },
        drafts: {
          steps: [{ kind: 'loop', mode: 'sparse', top_k: 1, min_citations: 1, max_rounds: 3 }, { kind: 'generate' }],
        },
        drafts_never_enough: {
          steps: [{ kind: 'loop', mode: 'sparse', top_k: 1, min_citations: 20, max_rounds: 3 }, { kind: 'generate' }],
        },
        branchy: {
          steps: [
            {
              kind: 'branch',
              name: 'split_or_not',
              if: { question_type: 'multi_part' },
              then: [{ kind: 'rewrite' }, { kind: 'retrieve', name: 'per_part', mode: 'sparse' }],
              else: [{ kind: 'retrieve', name: 'whole', mode: 'sparse' }],
            },
            { kind: 'branch', name: 'weak_evidence', if: { top_score_below: 1e9 }, then: [{ kind: 'tool', name: 'more', tool: 'search_namespace', arguments: { namespace: 'notes', query: '{question}' } }] },
            { kind: 'generate' },
          ],
        },
        tool_then_stall: {
          budget_ms: 2000,
          steps: [
            { kind: 'tool', name: 'first', tool: 'search_namespace', arguments: { namespace: 'notes', query: '{question}' } },
            { kind: 'loop', name: 'stuck', mode: 'sparse' },
            { kind: 'generate' },
          ],
        },
      },
      faults: { 'step.stuck': { mode: 'delay', delay_ms: 600_000 } },
    });
    for (const [headers, text] of [
      [A, 'Otters hold hands while sleeping so they do not drift apart. Sea otters use rocks as tools.'],
      [B, 'Team B keeps its otter notes private. Sea otters of team B sleep on kelp.'],
    ] as const) {
      const res = await server.post('/v1/documents', { namespace: 'notes', documents: [{ id: 'otters', title: 'Otters', text }] }, headers);
      assert.equal(res.status, 200, await res.text());
    }
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('tool steps: fetch the best hit\'s whole document, search another namespace, read the features; arguments redacted', async () => {
    const events = await chat(server, { text: 'What does status 429 mean?', flow: 'with_tools', user_id: 'user-7' });
    const [retrieve, wholeDoc, notes, profile] = stepsOf(events);
    const contexts = contextIdsOf(events);
    assert.equal(wholeDoc.status, 'ok', JSON.stringify(wholeDoc));
    assert.equal(wholeDoc.tool, 'fetch_document');
    const topDoc = retrieve.ids[0].split('#')[0];
    assert.deepEqual(wholeDoc.arguments, { namespace: 'default', doc_id: topDoc });
    assert.ok(wholeDoc.ids.length > 0 && wholeDoc.ids.every((id: string) => id.startsWith(`${topDoc}#`)), JSON.stringify(wholeDoc.ids));
    assert.equal(notes.status, 'ok');
    assert.deepEqual(notes.ids, ['otters#0']);
    assert.match(notes.arguments.query, /^ask \[EMAIL\] about What does status 429 mean\?$/, 'string arguments go through the redactor');
    assert.doesNotMatch(JSON.stringify(events), /ops@example\.com/);
    assert.equal(profile.status, 'ok');
    assert.deepEqual(profile.ids, ['features:user-7']);
    for (const id of ['otters#0', 'features:user-7', ...wholeDoc.ids]) assert.ok(contexts.includes(id), `${id} is a context: ${contexts}`);
    const features = events.find((e) => e.type === 'contexts')!.contexts.find((c: { id: string }) => c.id === 'features:user-7');
    assert.equal(features.text, 'tier: pro; region: eu');
  });

  test('a tool step whose placeholder has nothing to fill it is skipped, not failed', async () => {
    const events = await chat(server, { text: 'What does status 429 mean?', flow: 'with_tools' });
    const profile = stepsOf(events).find((s) => s.name === 'profile')!;
    assert.equal(profile.status, 'skipped', 'no user_id: no features to read');
  });

  test('fetch by id reads the caller\'s tenant only', async () => {
    const ofA = stepsOf(await chat(server, { text: 'otters?', flow: 'fetch_pinned' }, A))[0];
    const ofB = stepsOf(await chat(server, { text: 'otters?', flow: 'fetch_pinned' }, B))[0];
    assert.deepEqual([ofA.status, ofB.status], ['ok', 'ok']);
    const textOf = async (headers: typeof A) =>
      (await (await server.post('/v1/chat', { text: 'otters?', flow: 'fetch_pinned', stream: false }, headers)).json()).contexts[0].text;
    assert.match(await textOf(A), /hold hands/);
    assert.match(await textOf(B), /Team B/);
    assert.doesNotMatch(await textOf(B), /hold hands/);
  });

  test('a loop stops once its draft cites enough, and its draft is the answer (not written twice)', async () => {
    const labels = { flow: 'flow:drafts', stage: 'generate' };
    const generatedBefore = await metricValue(server.url, 'pronto_stage_duration_seconds_count', labels);
    const events = await chat(server, { text: 'What does status 429 mean?', flow: 'drafts' });
    const loop = stepsOf(events).find((s) => s.kind === 'loop')!;
    const done = events.find((e) => e.type === 'done')!;
    assert.equal(loop.status, 'ok');
    assert.equal(loop.rounds, 1, JSON.stringify(loop));
    assert.ok(loop.cited >= 1 && done.citations.length === loop.cited, JSON.stringify(done.citations));
    assert.match(events.filter((e) => e.type === 'token').map((e) => e.text).join(''), /429/);
    assert.equal((await metricValue(server.url, 'pronto_stage_duration_seconds_count', labels)) - generatedBefore, 1, 'one generation: the draft');
  });

  test('a loop whose drafts never cite enough runs to max_rounds, asking for more contexts each round', async () => {
    const events = await chat(server, { text: 'What does status 429 mean?', flow: 'drafts_never_enough' });
    const loop = stepsOf(events).find((s) => s.kind === 'loop')!;
    assert.equal(loop.rounds, 3);
    assert.equal(loop.ids.length, 3, 'one more context each round');
    assert.deepEqual(contextIdsOf(events), loop.ids);
  });

  test('branch on the question\'s type and on the retrieval score', async () => {
    const twoParts = stepsOf(await chat(server, { text: 'What does status 429 mean and where do jobs run with REDIS_URL?', flow: 'branchy' }));
    assert.deepEqual(
      twoParts.map((s) => `${s.name}:${s.branch ?? s.status}`),
      ['split_or_not:then', 'rewrite:ok', 'per_part:ok', 'per_part:ok', 'weak_evidence:then', 'more:ok', 'generate:running'],
    );
    const onePart = stepsOf(await chat(server, { text: 'What does status 429 mean?', flow: 'branchy' }));
    assert.deepEqual(
      onePart.map((s) => `${s.name}:${s.branch ?? s.status}`),
      ['split_or_not:else', 'whole:ok', 'weak_evidence:then', 'more:ok', 'generate:running'],
    );
    assert.ok((await metricValue(server.url, 'pronto_stage_duration_seconds_count', { flow: 'flow:branchy', stage: 'step.split_or_not', outcome: 'ok' })) >= 2);
  });

  test('the flow budget running out after a tool step: the answer comes from what the tool found, flagged', async () => {
    const events = await chat(server, { text: 'Do otters sleep?', flow: 'tool_then_stall' });
    assert.deepEqual(
      stepsOf(events).map((s) => `${s.name}:${s.status}`),
      ['first:ok', 'stuck:aborted', 'generate:running'],
    );
    assert.deepEqual(contextIdsOf(events), ['otters#0']);
    const done = events.find((e) => e.type === 'done')!;
    assert.ok(done.degraded.some((d: Event) => d.stage === 'flow' && d.reason === 'budget_exhausted' && d.fallback === 'best_so_far'));
    assert.deepEqual(done.citations, ['otters#0']);
  });
});

describe('flows are checked when the config loads', () => {
  const load = (flows: unknown) => () => loadConfig({ env: {}, overrides: { flows } as never });
  const refused = (flows: unknown, key: RegExp, message: RegExp) =>
    assert.throws(load(flows), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, key);
      assert.match(err.message, message);
      return true;
    });

  test('tool arguments that do not fit the tool name the flow, the step and the argument', () => {
    refused(
      { f: { steps: [{ kind: 'tool', name: 'look', tool: 'fetch_document', arguments: { namespace: 'notes' } }, { kind: 'generate' }] } },
      /flows\.f\.steps\.0\.arguments/,
      /flow "f", step "look": fetch_document .*doc_id/,
    );
    refused(
      { f: { steps: [{ kind: 'tool', tool: 'search_namespace', arguments: { namespace: 'notes', query: 'q', top: 3 } }, { kind: 'generate' }] } },
      /flows\.f\.steps\.0\.arguments/,
      /step "tool"/,
    );
  });

  test('an unknown tool, a generate inside a branch, a nested branch, a flow not ending in generate', () => {
    refused({ f: { steps: [{ kind: 'tool', tool: 'rm_rf', arguments: {} }, { kind: 'generate' }] } }, /flows\.f\.steps\.0\.tool/, /step "tool": tool "rm_rf" is not one of search_namespace/);
    refused(
      { f: { steps: [{ kind: 'branch', if: { abstained: true }, then: [{ kind: 'generate' }] }, { kind: 'generate' }] } },
      /flows\.f\.steps\.0\.then\.0\.kind/,
      /a branch may not hold a generate or branch step/,
    );
    refused(
      { f: { steps: [{ kind: 'branch', if: { abstained: true }, then: [{ kind: 'branch', if: { abstained: true }, then: [{ kind: 'rewrite' }] }] }, { kind: 'generate' }] } },
      /flows\.f\.steps\.0\.then\.0\.kind/,
      /a branch may not hold a generate or branch step/,
    );
    refused({ f: { steps: [{ kind: 'branch', if: { nope: 1 }, then: [{ kind: 'rewrite' }] }, { kind: 'generate' }] } }, /flows\.f\.steps\.0\.if/, /if must be one of/);
    refused({ f: { steps: [{ kind: 'generate' }, { kind: 'rewrite' }] } }, /flows\.f\.steps/, /flow "f" must end with one generate step/);
  });

  test("a plan step's model must be a generator that calls tools", () => {
    refused(
      { f: { steps: [{ kind: 'plan', name: 'think', model: 'extractive' }, { kind: 'generate' }] } },
      /flows\.f\.steps\.0\.model/,
      /flow "f", step "think": model "extractive" \(backend extractive\) does not call tools/,
    );
    refused({ f: { steps: [{ kind: 'plan', model: 'nope' }, { kind: 'generate' }] } }, /flows\.f\.steps\.0\.model/, /no model named "nope"/);
  });

  test('a tool step inside a branch is checked too', () => {
    refused(
      { f: { steps: [{ kind: 'branch', if: { contexts_below: 1 }, then: [{ kind: 'tool', tool: 'lookup_features', arguments: {} }] }, { kind: 'generate' }] } },
      /flows\.f\.steps\.0\.then\.0\.arguments/,
      /lookup_features/,
    );
  });
});
