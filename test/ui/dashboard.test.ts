import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createKey } from '../../src/config/keys.js';
import { startTestServer, type TestServer } from '../support/server.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium)`;
// The screenshots in docs/ are retaken only on request (PRONTO_UPDATE_SCREENSHOTS=1): a test run
// must not leave tracked files changed behind it.
const SCREENSHOTS = process.env.PRONTO_UPDATE_SCREENSHOTS
  ? new URL('../../docs/', import.meta.url).pathname
  : join(mkdtempSync(join(tmpdir(), 'pronto-screenshots-')), '/');
const ANSWER_STAGES = ['sanitize', 'embed', 'retrieve', 'generate', 'postprocess'];

/** A page that records console errors and uncaught exceptions. */
async function openPage(browser: Browser, url: string, viewport = { width: 1280, height: 900 }): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('console', (message) => {
    // A 401 before the key is typed is the expected way the page learns auth is on.
    if (message.type() === 'error' && !/status of 401/.test(message.text())) errors.push(message.text());
  });
  await page.goto(url);
  return { page, errors };
}

/** Keeps sending searches until stopped: the load the live charts should show. */
function load(server: TestServer, headers: Record<string, string> = {}) {
  let running = true;
  const done = (async () => {
    for (let i = 0; running; i++) await (await server.post('/v1/search', { query: `pronto metrics ${i}` }, headers)).arrayBuffer();
  })();
  return async () => {
    running = false;
    await done;
  };
}

const noHorizontalScroll = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);

describe('dashboard in headless Chromium', { skip }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    // Two variants that run the same stages (the playground's waterfall is checked stage by stage).
    server = await startTestServer({
      variants: [
        { name: 'control', weight: 1 },
        { name: 'even-fusion', weight: 1, retrieval: { weights: { dense: 0.5, sparse: 0.5 } } },
      ] as never,
      // A flow whose second step fails (test fault) and is skipped: a fallback for the waterfall to mark.
      flows: {
        skips: {
          steps: [
            { kind: 'retrieve', name: 'first_hop', mode: 'sparse' },
            { kind: 'retrieve', name: 'flaky', mode: 'sparse' },
            { kind: 'generate' },
          ],
        },
      },
      faults: { 'step.flaky': { mode: 'throw' } },
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('live charts move under load; the request view draws a waterfall', async () => {
    const { page, errors } = await openPage(browser, server.url + '/');
    await page.locator('#status', { hasText: 'ready' }).waitFor();
    await page.locator('#live-meta', { hasText: 'requests/s' }).waitFor();
    const before = await page.locator('#chart-rps canvas').evaluate((c: HTMLCanvasElement) => c.toDataURL());
    const stop = load(server);
    try {
      await page.locator('#chart-rps .u-legend', { hasText: '/v1/search' }).waitFor({ timeout: 60_000 });
      await page.locator('#stages', { hasText: 'retrieve' }).waitFor({ timeout: 60_000 });
      await page.locator('#route option', { hasText: '/v1/search' }).waitFor({ state: 'attached' });
    } finally {
      await stop();
    }
    const afterLoad = await page.locator('#chart-rps canvas').evaluate((c: HTMLCanvasElement) => c.toDataURL());
    assert.notEqual(afterLoad, before, 'the requests/s chart redrew with the traffic');
    assert.match((await page.textContent('#chart-latency .u-legend')) ?? '', /p95/);
    await page.screenshot({ path: `${SCREENSHOTS}dashboard-live.png`, fullPage: true });

    await page.click('nav button[data-view=requests]');
    await page.locator('#requests tbody tr').first().click();
    await page.locator('#request-waterfall [data-stage=retrieve]').waitFor();
    assert.match((await page.textContent('#request-title')) ?? '', /POST \/v1\/search · 200/);
    assert.deepEqual(errors, []);
  });

  test('the variant comparison shows each variant with its latency, degradations and feedback', async () => {
    const { page, errors } = await openPage(browser, server.url + '/');
    for (const [variant, rating] of [['control', 5], ['even-fusion', 2]] as const) {
      const search = await server.post('/v1/search', { query: 'variant comparison' }, { 'x-pronto-variant': variant });
      await search.arrayBuffer();
      assert.equal((await server.post('/v1/feedback', { request_id: search.headers.get('x-request-id'), rating })).status, 202);
    }
    const row = page.locator('#variants tbody tr', { hasText: 'even-fusion' });
    // The row appears with the search's second of statistics; its rating comes with a later one.
    await row.locator('td:nth-child(8)', { hasText: /^1$/ }).waitFor({ timeout: 60_000 });
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells.length, 9, cells.join(' | '));
    assert.match(cells[4], /ms$/, 'p95');
    assert.deepEqual(cells.slice(7), ['1', '2.00'], 'one rating, mean 2');
    assert.equal(await page.locator('#variants tbody tr', { hasText: 'control' }).count(), 1);
    assert.deepEqual(errors, []);
  });

  test('the playground streams an answer and draws every stage of it against its budget', async () => {
    const { page, errors } = await openPage(browser, server.url + '/');
    await page.click('nav button[data-view=playground]');
    await page.fill('#question', 'What does the rerank stage fall back to?');
    await page.click('#ask button');
    await page.locator('#answer-waterfall [data-stage]').first().waitFor();
    assert.ok(((await page.textContent('#answer')) ?? '').length > 20, 'the streamed answer is shown');
    const stages = await page.locator('#answer-waterfall [data-stage]').evaluateAll((nodes) => nodes.map((n) => (n as HTMLElement).dataset.stage));
    assert.deepEqual(stages, ANSWER_STAGES);
    assert.equal(await page.locator('#answer-waterfall .budget').count(), ANSWER_STAGES.length, 'each stage drawn against its budget');

    await page.fill('#query', 'prometheus metrics');
    await page.click('#search button');
    await page.locator('#hits li').first().waitFor();
    await page.screenshot({ path: `${SCREENSHOTS}dashboard-playground.png`, fullPage: true });
    assert.deepEqual(errors, []);
  });

  test("a flow's steps: drawn live in the playground, and in the request view with their fallbacks and ids", async () => {
    const { page, errors } = await openPage(browser, server.url + '/');
    await page.click('nav button[data-view=playground]');
    await page.locator('#flow option[value=decompose]').waitFor({ state: 'attached' });
    await page.selectOption('#flow', 'decompose');
    await page.fill('#question', 'What does status 429 mean and where do jobs run with REDIS_URL?');
    await page.click('#ask button');
    await page.locator('#answer-meta', { hasText: 'ms' }).waitFor();
    const steps = page.locator('#answer-steps button.steplabel');
    assert.deepEqual(
      await steps.evaluateAll((nodes) => nodes.map((n) => `${(n as HTMLElement).dataset.step}:${(n as HTMLElement).dataset.status}`)),
      ['rewrite:ok', 'retrieve:ok', 'retrieve:ok', 'rerank:skipped', 'rerank:skipped', 'generate:running'],
    );
    // Each bar starts where the step started on the request's clock: after the step before it ended.
    const bars = await page.locator('#answer-steps .bar').evaluateAll((nodes) =>
      nodes.map((n) => ({ left: parseFloat((n as HTMLElement).style.left), width: parseFloat((n as HTMLElement).style.width), status: n.className })),
    );
    assert.equal(bars.length, 6);
    for (let i = 1; i < bars.length; i++) assert.ok(bars[i].left >= bars[i - 1].left + bars[i - 1].width - 0.5, JSON.stringify(bars));
    assert.ok(bars[5].left > 0 && bars[5].left + bars[5].width > 99, 'the answer runs to the end of the request');
    assert.deepEqual(bars.map((b) => b.status), ['bar ok', 'bar ok', 'bar ok', 'bar skipped', 'bar skipped', 'bar running']);
    // A retrieve step's ids: on hover (the bar's title) and on expanding its row.
    const retrieve = page.locator('#answer-steps button.steplabel[data-step=retrieve]').first();
    assert.match((await page.locator('#answer-steps .bar').nth(1).getAttribute('title')) ?? '', /ids: \S+/);
    await retrieve.click();
    assert.equal(await retrieve.getAttribute('aria-expanded'), 'true');
    assert.match((await page.locator('#answer-steps .stepdetail:visible').first().textContent()) ?? '', /^ids: \S+/);
    assert.match((await page.textContent('#answer')) ?? '', /429/);
    const stages = await page.locator('#answer-waterfall [data-stage]').evaluateAll((nodes) => nodes.map((n) => (n as HTMLElement).dataset.stage));
    assert.ok(stages.includes('generate') && !stages.some((stage) => stage?.startsWith('step.')), `steps are drawn once: ${stages}`);
    await page.screenshot({ path: `${SCREENSHOTS}dashboard-flow.png`, fullPage: true });

    // A flow with a step that fell back, in the request view.
    const res = await server.post('/v1/chat', { text: 'What does status 429 mean?', flow: 'skips', stream: false });
    assert.equal(res.status, 200);
    const requestId = res.headers.get('x-request-id');
    await page.click('nav button[data-view=requests]');
    await page.locator(`#requests tbody tr[data-id="${requestId}"]`).click();
    const flaky = page.locator('#request-steps button.steplabel[data-step=flaky]');
    await flaky.waitFor();
    assert.equal(await flaky.getAttribute('data-status'), 'skipped');
    assert.equal(await flaky.locator('.fallback-mark').count(), 1, 'the fallback is marked');
    await flaky.click();
    assert.match((await page.locator('#request-steps .stepdetail:visible').textContent()) ?? '', /step\.flaky \(\w+\) → skipped/);
    assert.equal(await page.locator('#request-steps button.steplabel[data-step=first_hop]').getAttribute('data-status'), 'ok');
    assert.deepEqual(errors, []);
  });

  test('at 390 px wide no view scrolls sideways', async () => {
    const { page, errors } = await openPage(browser, server.url + '/', { width: 390, height: 844 });
    await page.locator('#live-meta', { hasText: 'requests/s' }).waitFor();
    assert.ok(await noHorizontalScroll(page), 'live view');
    await page.screenshot({ path: `${SCREENSHOTS}dashboard-390.png` });
    for (const view of ['requests', 'playground']) {
      await page.click(`nav button[data-view=${view}]`);
      assert.ok(await noHorizontalScroll(page), `${view} view`);
    }
    assert.deepEqual(errors, []);
  });
});

describe('dashboard with API keys on', { skip }, () => {
  // The live view shows every tenant's traffic: an operator's key.
  const { key: KEY, record } = createKey({ tenant: 'ops', role: 'operator' });
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    server = await startTestServer({ auth: { keys: [record] } });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('asks for a key, keeps it in session storage only, and works with it', async () => {
    assert.equal((await fetch(`${server.url}/stats`)).status, 401, '/stats needs a key');
    const { page, errors } = await openPage(browser, server.url + '/');
    await page.locator('#auth.shown').waitFor();
    await page.fill('#key', KEY);
    await page.click('#auth button');
    await page.locator('#live-meta', { hasText: 'requests/s' }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('pronto.api_key')), KEY);
    assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing kept beyond the tab');
    assert.equal(await page.locator('#auth.shown').count(), 0, 'the key field goes away');

    await page.click('nav button[data-view=playground]');
    await page.fill('#query', 'prometheus metrics');
    await page.click('#search button');
    await page.locator('#hits li').first().waitFor();
    assert.doesNotMatch((await page.textContent('#hits')) ?? '', /401|error/i);
    assert.deepEqual(errors, []);
  });
});
