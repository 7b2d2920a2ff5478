import { UpstreamError } from '../errors.js';
import type { Transform } from 'node:stream';
import { constants, createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

/**
 * Compressed bodies are scanned after decoding: upstream is asked only for
 * codings Latchkey can decode, and a coded body reaches the agent decoded
 * (identity), without Content-Encoding and Content-Length.
 */
const DECODABLE = new Set(['gzip', 'x-gzip', 'deflate', 'br', 'identity']);

function codings(value: string | string[] | undefined): string[] {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return text
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '');
}

/** The agent's Accept-Encoding narrowed to what can be decoded ("*" becomes the three), or undefined when it sent none. */
export function scannableAcceptEncoding(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const kept: string[] = [];
  for (const entry of codings(value)) {
    const name = (entry.split(';')[0] ?? '').trim();
    if (name === '*') kept.push('gzip', 'deflate', 'br');
    else if (DECODABLE.has(name)) kept.push(entry);
  }
  return kept.length === 0 ? 'identity' : [...new Set(kept)].join(', ');
}

const DECODERS: Record<string, () => Transform> = {
  gzip: () => createGunzip({ finishFlush: constants.Z_SYNC_FLUSH }),
  'x-gzip': () => createGunzip({ finishFlush: constants.Z_SYNC_FLUSH }),
  deflate: () => createInflate({ finishFlush: constants.Z_SYNC_FLUSH }),
  br: () => createBrotliDecompress({ finishFlush: constants.BROTLI_OPERATION_FLUSH }),
};

/**
 * The decoders for a Content-Encoding, in the order to apply them; [] for
 * none or identity. Truncated input ends the body rather than failing it, as
 * browsers do. A coding that cannot be decoded cannot be scanned: UpstreamError.
 */
export function decodersFor(contentEncoding: string | string[] | undefined): Transform[] {
  const applied = codings(contentEncoding)
    .filter((c) => c !== 'identity')
    .reverse();
  const unknown = applied.find((c) => DECODERS[c] === undefined);
  if (unknown !== undefined) {
    // Not echoed: the value is the upstream's and could carry a token.
    throw new UpstreamError('the upstream answered with a content encoding Latchkey cannot scan for tokens');
  }
  return applied.map((c) => (DECODERS[c] as () => Transform)());
}
