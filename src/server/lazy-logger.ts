import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type LogArgs = Parameters<FastifyBaseLogger['info']>;

/** What a request logger needs from its parent: a pino logger. */
export interface ParentLogger extends FastifyBaseLogger {
  isLevelEnabled(level: string): boolean;
}

/**
 * A request logger whose pino child is made on first use. A pino child runs
 * the redaction over its bindings when it is made, which on every proxied
 * request cost about 2% of the CPU for a logger that at the default levels
 * never writes a line. Methods live on the prototype: nothing but the object
 * itself is allocated per request.
 */
class LazyChildLogger {
  #child: ParentLogger | undefined;
  constructor(
    readonly parent: ParentLogger,
    readonly bindings: Bindings,
  ) {}

  #real(): ParentLogger {
    return (this.#child ??= this.parent.child(this.bindings) as ParentLogger);
  }

  #log(level: Level, args: LogArgs): void {
    // Asks the child once it exists: its level may have been changed on its own.
    if ((this.#child ?? this.parent).isLevelEnabled(level)) this.#real()[level](...args);
  }

  get level(): string {
    return (this.#child ?? this.parent).level;
  }
  set level(value: string) {
    this.#real().level = value;
  }
  fatal(...args: LogArgs): void {
    this.#log('fatal', args);
  }
  error(...args: LogArgs): void {
    this.#log('error', args);
  }
  warn(...args: LogArgs): void {
    this.#log('warn', args);
  }
  info(...args: LogArgs): void {
    this.#log('info', args);
  }
  debug(...args: LogArgs): void {
    this.#log('debug', args);
  }
  trace(...args: LogArgs): void {
    this.#log('trace', args);
  }
  silent(): void {}
  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }
}

/**
 * Fastify's `childLoggerFactory`: the same child (bindings, redaction) made
 * lazily. Route options (a route's own log level or serializers) get a real
 * child at once.
 */
export function lazyChildLogger(parent: ParentLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  if (Object.keys(options).length > 0) return parent.child(bindings, options);
  return new LazyChildLogger(parent, bindings) as unknown as FastifyBaseLogger;
}
