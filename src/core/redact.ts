import { isIPv6 } from 'node:net';

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
  email: { label: 'EMAIL', pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g },
  ssn: {
    label: 'SSN',
    pattern: new RegExp(`${DIGIT_RUN_START}(?!000|666|9\\d\\d)\\d{3}-(?!00)\\d{2}-(?!0000)\\d{4}${DIGIT_RUN_END}`, 'g'),
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
    pattern: /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.])/g,
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
    findings: (text) => {
      const found: string[] = [];
      run(text, found);
      return found;
    },
  };
}
