import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../support/server.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium)`;

describe('dashboard in headless Chromium', { skip }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    server = await startTestServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  test('shows readiness and models, streams an answer, runs a search', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(String(err)));
    await page.goto(server.url + '/');
    await page.locator('#status', { hasText: 'ready' }).waitFor();
    await page.locator('#models', { hasText: 'use-lite' }).waitFor();

    await page.fill('#question', 'What does the rerank stage fall back to?');
    await page.click('#ask button');
    await page.locator('#answer-meta', { hasText: 'ms' }).waitFor();
    assert.ok(((await page.textContent('#answer')) ?? '').length > 20, 'the streamed answer is shown');
    assert.ok((await page.locator('#contexts li').count()) > 0, 'with its contexts');

    await page.fill('#query', 'prometheus metrics');
    await page.click('#search button');
    await page.locator('#hits li').first().waitFor();
    assert.ok((await page.locator('#hits li').count()) > 0);
    await page.locator('#traffic', { hasText: 'requests 200' }).waitFor();
    assert.deepEqual(errors, []);
  });
});
