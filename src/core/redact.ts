import { isIPv6 } from 'node:net';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { throwIfAborted } from './deadline.js';
import { invalidInput } from './errors.js';

/**
 * PII redaction, run before any other stage and before anything is logged, cached or queued.
 * Hand-written on purpose: the npm PII libraries either call a cloud DLP service or lack the
 * checks that keep false positives down (Luhn for card numbers, a real IPv6 parser), and we need
 * user-configurable patterns on the same path.
 */

interface Detector {
  label: string;
  pattern: RegExp;
  /** A second check on a candidate match; false keeps the text as it is. */
  accept?: (match: string) => boolean;
}

const DIGIT_RUN_START = '(?<![\\d\\w])';
const DIGIT_RUN_END = '(?![\\d\\w])';

/** The built-in detectors, by the name config uses for them (`pii.detectors`). */
export type DetectorName = 'ssn' | 'email' | 'phone' | 'credit_card' | 'ipv4' | 'ipv6';

/** What redaction needs from config (`pii`); config's schema checks the same shape. */
export interface RedactionOptions {
  enabled: boolean;
  detectors: DetectorName[];
  /** Extra patterns, redacted as `[NAME]`. */
  patterns: Array<{ name: string; regex: string; flags: string }>;
}

const BUILT_IN: Record<DetectorName, Detector> = {
  // The lookbehind starts a match only where a local part starts: without it a long run of
  // letters with no `@` is rescanned from every position (quadratic).
  email: { label: 'EMAIL', pattern: /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g },
  // `123-45-6789`, `123 45 6789` and bare `123456789` (one separator, used twice). Nine bare digits
  // are redacted whenever they are a valid SSN (area not 000/666/9xx, group not 00, serial not
  // 0000): the pipeline promises no PII is stored, so a false positive beats a leak.
  ssn: {
    label: 'SSN',
    pattern: new RegExp(`${DIGIT_RUN_START}(?!000|666|9\\d\\d)\\d{3}([- ]?)(?!00)\\d{2}\\1(?!0000)\\d{4}${DIGIT_RUN_END}`, 'g'),
  },
  credit_card: {
    label: 'CREDIT_CARD',
    pattern: new RegExp(`${DIGIT_RUN_START}\\d(?:[ -]?\\d){12,18}${DIGIT_RUN_END}`, 'g'),
    accept: (match) => passesLuhn(match.replace(/\D/g, '')),
  },
  ipv6: {
    label: 'IP_ADDRESS',
    pattern: /(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])/g,
    accept: (match) => isIPv6(match),
  },
  ipv4: {
    label: 'IP_ADDRESS',
    // Not inside a longer dotted number (`1.2.3.4.5`), but a sentence's full stop may follow.
    pattern: /(?<!\d|\d\.)(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\d|\.\d)/g,
  },
  phone: {
    label: 'PHONE',
    pattern: new RegExp(
      `${DIGIT_RUN_START}(?:\\+\\d{1,3}[ .-]?)?(?:\\(\\d{2,4}\\)[ .-]?|\\d{2,4}[ .-])\\d{3,4}[ .-]?\\d{3,4}${DIGIT_RUN_END}` +
        `|(?<![\\d\\w+])\\+\\d{7,14}${DIGIT_RUN_END}`,
      'g',
    ),
  },
};

export function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length >= 13 && sum % 10 === 0;
}

export interface Redactor {
  /** The text with every detected PII span replaced by `[LABEL]`. */
  redact(text: string): string;
  /**
   * `redact` for text of any allowed size: works in slices of about SLICE_CHARS, yielding to the
   * event loop and checking the signal between slices, so one big document never blocks the
   * process (probes, other requests) nor outlives its deadline or client.
   */
  redactInSlices(text: string, signal?: AbortSignal): Promise<string>;
  /** Labels found in the text (for metrics and tests). */
  findings(text: string): string[];
}

/** Builds the redactor once per app: detectors in config order, then the configured patterns. */
export function createRedactor(config: RedactionOptions): Redactor {
  const detectors: Detector[] = config.enabled
    ? [
        ...config.detectors.map((name) => BUILT_IN[name]),
        ...config.patterns.map((p) => ({
          label: p.name.toUpperCase(),
          pattern: new RegExp(p.regex, p.flags.includes('g') ? p.flags : `${p.flags}g`),
        })),
      ]
    : [];
  const run = (text: string, found?: string[]): string =>
    detectors.reduce(
      (current, detector) =>
        current.replace(detector.pattern, (match) => {
          if (detector.accept && !detector.accept(match)) return match;
          found?.push(detector.label);
          return `[${detector.label}]`;
        }),
      text,
    );
  return {
    redact: (text) => run(text),
    async redactInSlices(text, signal) {
      if (text.length <= SLICE_CHARS) return run(text);
      const parts: string[] = [];
      for (let start = 0; start < text.length; ) {
        const end = sliceEnd(text, start);
        parts.push(run(text.slice(start, end)));
        start = end;
        await yieldToEventLoop();
        throwIfAborted(signal);
      }
      return parts.join('');
    },
    findings: (text) => {
      const found: string[] = [];
      run(text, found);
      return found;
    },
  };
}

/** Characters redacted per slice: about a millisecond of regex work on one core. */
export const SLICE_CHARS = 16_384;
const CUT_SEARCH_CHARS = 1024;

/**
 * Where the slice starting at `start` ends: between two words (a letter, spaces, a letter), where no
 * built-in pattern can match across (emails, IPs, card, phone and SSN numbers hold no space between
 * letters); failing that at any space; failing that (one 1 KiB run with no space) at SLICE_CHARS.
 */
function sliceEnd(text: string, start: number): number {
  const limit = start + SLICE_CHARS;
  if (limit >= text.length) return text.length;
  const window = text.slice(limit - CUT_SEARCH_CHARS, limit);
  let cut = -1;
  for (const match of window.matchAll(/[A-Za-z](\s+)(?=[A-Za-z])/g)) cut = match.index + 1;
  if (cut < 0) cut = window.lastIndexOf(' ') + 1;
  return cut > 0 ? limit - CUT_SEARCH_CHARS + cut : limit;
}

/**
 * An identifier that is only digits is a numeric key (database rows, BEIR corpora such as SciFact
 * with nine-digit ids), not an SSN written without separators: in free text nine bare digits are
 * redacted (a false positive costs a word), but refusing every nine-digit key would make whole
 * corpora unloadable. `123-45-6789` as an id is still refused, and so is a card number.
 */
const NUMERIC_KEY = /^\d+$/;

/**
 * Refuses an identifier (document id, namespace, metadata key) that carries PII. An identifier is a
 * key: redacting it would change what it names, and it reaches storage and logs as it is.
 */
export function refusePersonalData(redactor: Redactor, value: string, field: string): void {
  const numericKey = NUMERIC_KEY.test(value);
  const found = redactor.findings(value).filter((label) => !(numericKey && label === BUILT_IN.ssn.label));
  if (found.length > 0) throw invalidInput(field, `${field} looks like personal data (${found[0]}); use an opaque identifier`);
}
