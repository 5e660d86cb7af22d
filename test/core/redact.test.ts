import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { SLICE_CHARS, createRedactor, passesLuhn } from '../../src/core/redact.js';

const redactor = createRedactor(loadConfig({ env: {} }).pii);

const cases: Array<[string, string]> = [
  ['mail me at jane.doe+x@example.co.uk please', 'mail me at [EMAIL] please'],
  ['ssn 123-45-6789 on file', 'ssn [SSN] on file'],
  ['card 4111 1111 1111 1111 expires', 'card [CREDIT_CARD] expires'],
  ['card 4111-1111-1111-1111.', 'card [CREDIT_CARD].'],
  ['call (555) 123-4567 or +1 555-123-4567', 'call [PHONE] or [PHONE]'],
  ['server 192.168.10.1 is down', 'server [IP_ADDRESS] is down'],
  ['ip 203.0.113.77.', 'ip [IP_ADDRESS].'],
  ['ssn 123 45 6789 and 123456789.', 'ssn [SSN] and [SSN].'],
  ['v6 2001:db8::8a2e:370:7334 and ::1 too', 'v6 [IP_ADDRESS] and [IP_ADDRESS] too'],
];

for (const [input, expected] of cases) {
  test(`redacts: ${input}`, () => assert.equal(redactor.redact(input), expected));
}

test('order numbers that fail the Luhn check survive', () => {
  const text = 'order 4111111111111112 shipped';
  assert.equal(passesLuhn('4111111111111112'), false);
  assert.equal(redactor.redact(text), text);
});

test('ordinary numbers, versions and times survive', () => {
  const text = 'version 1.2.3 at 10:30, 42 items, ratio 3:2, year 2024';
  assert.equal(redactor.redact(text), text);
});

test('configured patterns are redacted under their own label', () => {
  const config = loadConfig({ env: {}, overrides: { pii: { patterns: [{ name: 'employee_id', regex: 'EMP-\\d{5}', flags: 'g' }] } } });
  assert.equal(createRedactor(config.pii).redact('ask EMP-12345'), 'ask [EMPLOYEE_ID]');
});

test('disabled redaction leaves text alone', () => {
  const config = loadConfig({ env: {}, overrides: { pii: { enabled: false } } });
  assert.equal(createRedactor(config.pii).redact('a@b.com'), 'a@b.com');
});

test('version-like dotted numbers and mixed SSN separators are not redacted', () => {
  const text = 'v1.203.0.113.77.5 and 123-45 6789 and 000123456';
  assert.equal(redactor.redact(text), text);
});

test('redaction is linear: a megabyte without spaces or @ is done in one pass per detector', async () => {
  // The email pattern used to restart at every letter of a run (minutes for 1e6 characters).
  const run = 'a'.repeat(1_000_000);
  assert.equal(redactor.redact(run), run);
  assert.equal(await redactor.redactInSlices(run), run);
});

test('slice-wise redaction equals whole-text redaction, PII at slice edges included', async () => {
  const filler = 'lorem ipsum dolor sit amet ';
  const pii = ' jane.doe@example.com 123-45-6789 4111 1111 1111 1111 (555) 867-5309 10.20.30.40 ';
  const text = Array.from({ length: 40 }, (_, i) => filler.repeat(20 + i * 7) + pii).join('');
  assert.ok(text.length > 4 * SLICE_CHARS);
  assert.equal(await redactor.redactInSlices(text), redactor.redact(text));
});

test('slice-wise redaction stops when its signal aborts', async () => {
  const controller = new AbortController();
  controller.abort(new Error('client went away'));
  await assert.rejects(redactor.redactInSlices('word '.repeat(20_000), controller.signal), /client went away/);
});
