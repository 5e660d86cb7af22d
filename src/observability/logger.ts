import { pino, type Logger } from 'pino';

/**
 * The app's logger. Request text is redacted by the sanitize stage before anything logs it; these
 * paths catch credentials and bodies that must never reach a log line at all.
 */
export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { service: 'pronto', ...base },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-api-key"]',
        'headers.authorization',
        'body',
        'req.body',
        'input',
        '*.callback_secret',
      ],
      censor: '[REDACTED]',
    },
  });
}
