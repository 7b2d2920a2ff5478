import { Readable } from 'node:stream';
import { secretForms } from './redact-forms.js';

/**
 * What a redacted occurrence becomes: `[REDACTED]` padded with `*` (or cut
 * short) to the occurrence's own length, so a body keeps its Content-Length
 * and a 206's Content-Range stays true.
 */
export const REDACTION_MARKER = '[REDACTED]';

function fillMarker(target: Buffer, start: number, end: number): void {
  for (let i = start; i < end; i += 1) {
    const at = i - start;
    target[i] = at < REDACTION_MARKER.length ? REDACTION_MARKER.charCodeAt(at) : 0x2a;
  }
}

/**
 * Up to this size a chunk is searched as a latin1 string: V8's string search
 * costs less than a native Buffer.indexOf call per form on small bodies;
 * above it, Buffer.indexOf spares the copy.
 */
const STRING_SEARCH_LIMIT = 4096;

/** Finds the forms of a few secrets in bytes and strings. */
export class Redactor {
  readonly forms: readonly Buffer[];
  readonly #strings: readonly string[];
  /** Bytes that occur in some form: a chunk ending in any other byte cannot end inside a form. */
  readonly #alphabet = new Uint8Array(256);

  constructor(forms: readonly Buffer[]) {
    this.forms = forms;
    this.#strings = forms.map((f) => f.toString('latin1'));
    for (const form of forms) for (const byte of form) this.#alphabet[byte] = 1;
  }

  /** Start and end of every occurrence of every form, or undefined when there is none. */
  #ranges(buf: Buffer): number[] | undefined {
    let ranges: number[] | undefined;
    if (buf.length <= STRING_SEARCH_LIMIT) {
      const text = buf.toString('latin1');
      for (const form of this.#strings) {
        for (let at = text.indexOf(form); at !== -1; at = text.indexOf(form, at + 1)) (ranges ??= []).push(at, at + form.length);
      }
    } else {
      for (const form of this.forms) {
        for (let at = buf.indexOf(form); at !== -1; at = buf.indexOf(form, at + 1)) (ranges ??= []).push(at, at + form.length);
      }
    }
    return ranges;
  }

  /**
   * `buf` with every form masked, as a copy (the input may be a buffer the
   * stream below still owns), or `buf` itself when no form is in it.
   */
  mask(buf: Buffer): Buffer {
    const ranges = this.#ranges(buf);
    if (ranges === undefined) return buf;
    // Masked only once all are found, so overlapping forms are all covered.
    const out = Buffer.from(buf);
    for (let i = 0; i < ranges.length; i += 2) fillMarker(out, ranges[i] as number, ranges[i + 1] as number);
    return out;
  }

  /** A header value (latin1, as HTTP carries it) with every form masked, or the value itself when none is in it. */
  maskText(value: string): string {
    if (!this.inText(value)) return value;
    return this.mask(Buffer.from(value, 'latin1')).toString('latin1');
  }

  /** Whether the text holds a form. */
  inText(value: string): boolean {
    return this.#strings.some((s) => value.includes(s));
  }

  /**
   * Where the bytes that could begin a form start: from there on, `buf` ends
   * with a proper prefix of some form and must wait for the next chunk.
   */
  heldFrom(buf: Buffer): number {
    if (buf.length === 0 || this.#alphabet[buf[buf.length - 1] as number] === 0) return buf.length;
    let held = buf.length;
    for (const form of this.forms) {
      const first = form[0] as number;
      for (let p = buf.indexOf(first, Math.max(0, buf.length - form.length + 1)); p !== -1 && p < held; p = buf.indexOf(first, p + 1)) {
        if (form.compare(buf, p, buf.length, 0, buf.length - p) === 0) {
          held = p;
          break;
        }
      }
    }
    return held;
  }
}

/**
 * A body with the forms masked, read from `source` across chunk boundaries:
 * the bytes at the end of a chunk that could begin a form (at most the
 * longest form less one) wait for the next chunk; everything else goes on at
 * once. A Readable fed by the source's `data` events rather than a Transform
 * piped into: this sits on every proxied response, and the writable half
 * and the pipe cost more than the scan.
 */
export class RedactedBody extends Readable {
  readonly #source: Readable;
  readonly #redactor: Redactor;
  readonly #onFirst: () => Promise<void>;
  #tail: Buffer | undefined;
  /** Waiting for `onFirst`: the source is paused and its end, if it comes, waits too. */
  #waiting = false;
  #sourceEnded = false;
  /** Set the first time a form is masked. */
  fired = false;

  /**
   * `onFirst` is called once, the first time a form is masked; nothing more
   * goes out until it resolves, and the body fails if it rejects.
   * An error of `source` fails this body; destroying this body destroys `source`.
   */
  constructor(source: Readable, redactor: Redactor, onFirst: () => Promise<void> = () => Promise.resolve()) {
    super();
    this.#source = source;
    this.#redactor = redactor;
    this.#onFirst = onFirst;
    source.on('error', (err: Error) => this.destroy(err));
    source.on('data', (chunk: Buffer) => this.#chunk(chunk));
    source.on('end', () => {
      this.#sourceEnded = true;
      if (!this.#waiting) this.#end();
    });
  }

  #end(): void {
    if (this.#tail !== undefined) this.push(this.#tail);
    this.push(null);
  }

  override _read(): void {
    if (!this.#waiting) this.#source.resume();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (!this.#source.destroyed) this.#source.destroy();
    done(err);
  }

  #chunk(chunk: Buffer): void {
    const joined = this.#tail === undefined ? chunk : Buffer.concat([this.#tail, chunk]);
    const buf = this.#redactor.mask(joined);
    const held = this.#redactor.heldFrom(buf);
    this.#tail = held < buf.length ? buf.subarray(held) : undefined;
    const out = held > 0 ? buf.subarray(0, held) : undefined;
    if (buf !== joined && !this.fired) {
      this.fired = true;
      this.#waiting = true;
      this.#source.pause();
      this.#onFirst().then(
        () => {
          this.#waiting = false;
          const more = out === undefined || this.push(out);
          if (this.#sourceEnded) this.#end();
          else if (more) this.#source.resume();
        },
        (err: Error) => this.destroy(err),
      );
      return;
    }
    if (out !== undefined && !this.push(out)) this.#source.pause();
  }
}

const redactors = new Map<string, Redactor>();
const REDACTORS_CACHE_SIZE = 256;

/**
 * A redactor for these secrets (empty ones ignored), built once per set:
 * a connection's tokens serve many requests, and its forms take some work.
 */
export function redactorFor(secrets: readonly string[]): Redactor {
  const key = secrets.join('\n');
  let redactor = redactors.get(key);
  if (redactor === undefined) {
    const forms = new Set<string>();
    for (const s of secrets) if (s !== '') for (const f of secretForms(s)) forms.add(f.toString('latin1'));
    redactor = new Redactor([...forms].sort((a, b) => b.length - a.length).map((f) => Buffer.from(f, 'latin1')));
    if (redactors.size >= REDACTORS_CACHE_SIZE) redactors.delete(redactors.keys().next().value as string);
    redactors.set(key, redactor);
  }
  return redactor;
}
