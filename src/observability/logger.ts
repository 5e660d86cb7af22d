import { pino, type Logger } from 'pino';

/**
 * The app's logger: JSON lines, or pino-pretty's coloured lines when stdout is a terminal. Request
 * text is redacted by the sanitize stage before anything logs it; these paths catch credentials
 * and bodies that must never reach a log line at all.
 */
export function createLogger(level: string, base: Record<string, unknown> = {}, pretty = process.stdout.isTTY === true): Logger {
  return pino({
    level,
    base: { service: 'pronto', ...base },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["x-api-key"]',
        'headers.authorization',
        'headers["x-api-key"]',
        'body',
        'req.body',
        'input',
        '*.callback_secret',
      ],
      censor: '[REDACTED]',
    },
    transport: pretty ? { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' } } : undefined,
  });
}
