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

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
type LogCall = (...args: unknown[]) => void;
type Bindings = Record<string, unknown>;

/**
 * A pino child logger made when it is first needed: when it writes a line at a level that is on,
 * or is asked for anything but a line (bindings, level set, a child with options). pino's child()
 * serialises its bindings as it is made, and every request had two (Fastify's, with the request
 * id, and the pipeline context's) though at the usual levels most requests write no line at all.
 * A line comes out as the eager child would have written it: same bindings, same order.
 */
export function lazyChild<L extends Logger>(parent: L, bindings: Bindings): L {
  return new LazyChild(parent, bindings) as unknown as L;
}

class LazyChild {
  private made?: Logger;

  constructor(
    private readonly parent: Logger,
    private readonly bindingsGiven: Bindings,
  ) {}

  /** The pino child itself (made now if it is not yet): what everything but a line goes to. */
  get real(): Logger {
    // Of a parent that is lazy too, its real logger's child: pino's own chain, made together.
    this.made ??= (this.parent instanceof LazyChild ? this.parent.real : this.parent).child(this.bindingsGiven);
    return this.made;
  }

  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }

  child(bindings: Bindings, options?: object): Logger {
    // A child of a child not yet made needs neither: the pair is made together on its first line.
    if (options === undefined || Object.keys(options).length === 0) return lazyChild(this as unknown as Logger, bindings);
    return this.real.child(bindings, options);
  }

  isLevelEnabled(level: string): boolean {
    return (this.made ?? this.parent).isLevelEnabled(level);
  }

  get level(): string {
    return (this.made ?? this.parent).level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  get silent(): LogCall {
    return this.real.silent as LogCall;
  }

  bindings(): Bindings {
    return this.real.bindings();
  }

  setBindings(bindings: Bindings): void {
    this.real.setBindings(bindings);
  }

  flush(callback?: (err?: Error) => void): void {
    this.real.flush(callback);
  }

  private write(level: Level, args: unknown[]): void {
    if (this.made === undefined && !this.parent.isLevelEnabled(level)) return;
    (this.real[level] as LogCall)(...args);
  }
}
