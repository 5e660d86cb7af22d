import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { createRedactor, passesLuhn } from '../../src/core/redact.js';

const redactor = createRedactor(loadConfig({ env: {} }).pii);

const cases: Array<[string, string]> = [
  ['mail me at jane.doe+x@example.co.uk please', 'mail me at [EMAIL] please'],
  ['ssn 123-45-6789 on file', 'ssn [SSN] on file'],
  ['card 4111 1111 1111 1111 expires', 'card [CREDIT_CARD] expires'],
  ['card 4111-1111-1111-1111.', 'card [CREDIT_CARD].'],
  ['call (555) 123-4567 or +1 555-123-4567', 'call [PHONE] or [PHONE]'],
  ['server 192.168.10.1 is down', 'server [IP_ADDRESS] is down'],
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
