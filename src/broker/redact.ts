import { Transform, type TransformCallback } from 'node:stream';
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

/** Finds the forms of a few secrets in bytes and strings. One per brokered exchange; cheap to build from a cached form list. */
export class Redactor {
  readonly forms: readonly Buffer[];
  readonly #strings: readonly string[];
  /** Longest form, in bytes: a stream holds back at most this minus one. */
  readonly longest: number;

  constructor(forms: readonly Buffer[]) {
    this.forms = forms;
    this.#strings = forms.map((f) => f.toString('latin1'));
    this.longest = forms.reduce((n, f) => Math.max(n, f.length), 0);
  }

  /**
   * `buf` with every form masked, as a copy (the input may be a buffer the
   * stream below still owns), or `buf` itself when no form is in it.
   */
  mask(buf: Buffer): Buffer {
    let ranges: number[] | undefined;
    for (const form of this.forms) {
      for (let at = buf.indexOf(form); at !== -1; at = buf.indexOf(form, at + 1)) {
        (ranges ??= []).push(at, at + form.length);
      }
    }
    if (ranges === undefined) return buf;
    // Masked only once all are found, so overlapping forms are all covered.
    const out = Buffer.from(buf);
    for (let i = 0; i < ranges.length; i += 2) fillMarker(out, ranges[i] as number, ranges[i + 1] as number);
    return out;
  }

  /** A header value (latin1, as HTTP carries it) with every form masked, or the value itself when none is in it. */
  maskText(value: string): string {
    if (!this.#strings.some((s) => value.includes(s))) return value;
    return this.mask(Buffer.from(value, 'latin1')).toString('latin1');
  }

  /** Whether a header name holds a form (it cannot be masked: the marker is not a valid name). */
  inText(value: string): boolean {
    return this.#strings.some((s) => value.includes(s));
  }

  /**
   * Where the bytes that could begin a form start: from there on, `buf` ends
   * with a proper prefix of some form and must wait for the next chunk.
   */
  heldFrom(buf: Buffer): number {
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
 * Masks the forms in a streamed body, across chunk boundaries: the bytes at
 * the end of a chunk that could begin a form (at most the longest form less
 * one) wait for the next chunk; everything else goes on at once.
 */
export class RedactStream extends Transform {
  readonly #redactor: Redactor;
  readonly #onFirst: () => Promise<void>;
  #tail: Buffer | undefined;
  /** Set the first time a form is masked. */
  fired = false;

  /**
   * `onFirst` is called once, the first time a form is masked; nothing more
   * goes out until it resolves, and the body fails if it rejects.
   */
  constructor(redactor: Redactor, onFirst: () => Promise<void> = () => Promise.resolve()) {
    super();
    this.#redactor = redactor;
    this.#onFirst = onFirst;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const joined = this.#tail === undefined ? chunk : Buffer.concat([this.#tail, chunk]);
    const buf = this.#redactor.mask(joined);
    const held = this.#redactor.heldFrom(buf);
    this.#tail = held < buf.length ? buf.subarray(held) : undefined;
    const out = held > 0 ? buf.subarray(0, held) : undefined;
    if (buf !== joined && !this.fired) {
      this.fired = true;
      this.#onFirst().then(() => done(null, out), done);
      return;
    }
    done(null, out);
  }

  override _flush(done: TransformCallback): void {
    done(null, this.#tail);
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
