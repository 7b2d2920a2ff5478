import type { Readable, Transform } from 'node:stream';
import { relayedResponseHeaders, type HeaderMap } from './headers.js';
import { relayLinks, relayLocation, type LinkBases } from './links.js';
import { decodersFor } from './redact-encoding.js';
import { RedactedBody, redactorFor, type Redactor } from './redact.js';

/** What the upstream answered (undici's response data, narrowed to what is relayed). */
export interface UpstreamResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: Readable;
}

export interface RelayOptions {
  method: string;
  /** The provider tokens this exchange used: none of their forms may reach the agent. */
  secrets: readonly string[];
  /** invoke: no auth-class headers at all. */
  stripAuth: boolean;
  /** The provider lets its API's cookies through (quirk `relaySetCookie`); by default the proxy strips Set-Cookie. */
  relaySetCookie: boolean;
  /** Where links may point (built only when the answer has a Link or Location). */
  links: () => LinkBases;
  /** Called once, the first time a token form is masked in the body (after the outcome event was written); the body waits for it. */
  onBodyRedacted: () => Promise<void>;
}

export interface Relayed {
  status: number;
  headers: HeaderMap;
  body: Readable;
  /** A token form was found in the headers (masked, or the header dropped). */
  headersRedacted: boolean;
}

/** Headers a changed body would contradict: its coding, length and digests. */
const ENCODED_BODY_HEADERS = ['content-encoding', 'content-length', 'content-md5', 'content-digest', 'repr-digest', 'digest'];

function maskHeaders(headers: HeaderMap, redactor: Redactor): boolean {
  // One scan over everything first: the usual answer has no token in any header.
  const all = Object.entries(headers)
    .map(([name, value]) => `${name}\n${Array.isArray(value) ? value.join('\n') : value}`)
    .join('\n');
  if (!redactor.inText(all)) return false;
  for (const [name, value] of Object.entries(headers)) {
    // A name cannot hold the marker: the header goes.
    if (redactor.inText(name)) delete headers[name];
    else headers[name] = Array.isArray(value) ? value.map((v) => redactor.maskText(v)) : redactor.maskText(value);
  }
  return true;
}

/**
 * The agent's view of an upstream response: token forms masked in headers
 * and body (the body decoded first when it is compressed), cookies stripped
 * unless the provider allows them, links judged and rewritten.
 * Throws UpstreamError, before anything is relayed, for a body coding that cannot be scanned.
 */
export function relayResponse(response: UpstreamResponse, options: RelayOptions): Relayed {
  const redactor = redactorFor(options.secrets);
  const headers = relayedResponseHeaders(response.headers, { stripAuth: options.stripAuth });
  const hasBody = options.method !== 'HEAD' && response.statusCode !== 204 && response.statusCode !== 304;
  // Headers of a body-less answer describe a body the agent does not get: left as they are.
  const decoders = hasBody ? decodersFor(headers['content-encoding']) : [];
  if (decoders.length > 0) for (const name of ENCODED_BODY_HEADERS) delete headers[name];
  if (!options.relaySetCookie) {
    delete headers['set-cookie'];
    delete headers['set-cookie2'];
  }
  const headersRedacted = maskHeaders(headers, redactor);
  if (headers.link !== undefined) {
    const link = relayLinks(headers.link, options.links());
    if (link === undefined) delete headers.link;
    else headers.link = link;
  }
  if (typeof headers.location === 'string') headers.location = relayLocation(headers.location, options.links());
  if (!hasBody) {
    return { status: response.statusCode, headers, body: response.body, headersRedacted };
  }
  return { status: response.statusCode, headers, body: redactedBody(response.body, decoders, redactor, options.onBodyRedacted), headersRedacted };
}

/**
 * upstream → decoders → redaction. An error anywhere ends the agent's body
 * with that error; the agent going away (the body destroyed early) stops the rest.
 */
function redactedBody(upstream: Readable, decoders: Transform[], redactor: Redactor, onRedacted: () => Promise<void>): Readable {
  if (decoders.length === 0) return new RedactedBody(upstream, redactor, onRedacted);
  const stages: Readable[] = [upstream, ...decoders];
  let from: Readable = upstream;
  for (const d of decoders) from = from.pipe(d);
  const out = new RedactedBody(from, redactor, onRedacted);
  for (const s of stages.slice(0, -1)) s.on('error', (err: Error) => out.destroy(err));
  out.once('close', () => {
    for (const s of stages) if (!s.destroyed) s.destroy();
  });
  return out;
}
