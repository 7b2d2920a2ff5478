import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { LatchkeyApiError, LatchkeyConnectionError, LatchkeyRequestError } from '../sdk/index.js';

/** Removes known secrets from text bound for the MCP host (tool results, stderr). */
export type Redact = (text: string) => string;

export function redactor(secrets: readonly string[]): Redact {
  // Short strings would redact ordinary words; real keys are long.
  const known = secrets.filter((s) => s.length >= 8);
  return (text) => known.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
}

/** Bad tool input caught before any request is sent; reported like the API's own `invalid_request`. */
export class ToolInputError extends Error {}

export interface BodyLimits {
  /** Characters of body text shown to the model; the rest is cut with a note. */
  maxChars: number;
  /** Bytes read from the response at most: a huge download is not pulled into memory to show 32k of it. */
  maxBytes: number;
}

export const DEFAULT_LIMITS: BodyLimits = { maxChars: 32_000, maxBytes: 1024 * 1024 };

/** Response headers worth showing a model: type, redirects, pagination and back-off. Never auth-class headers. */
const SHOWN_HEADERS = ['content-type', 'location', 'link', 'retry-after'];

const BINARY_TYPE = /^(image|audio|video|font)\/|^application\/(octet-stream|pdf|zip|gzip|x-tar|x-protobuf|vnd\.ms-|vnd\.openxmlformats)/i;

/** Reads at most `limit` bytes, then cancels the stream so the rest is not downloaded. */
async function readLimited(response: Response, limit: number): Promise<{ bytes: Uint8Array; complete: boolean }> {
  if (response.body === null) return { bytes: new Uint8Array(), complete: true };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let complete = true;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.byteLength;
    if (total > limit) {
      complete = false;
      await reader.cancel().catch(() => undefined);
      break;
    }
  }
  const bytes = new Uint8Array(Math.min(total, limit));
  let at = 0;
  for (const chunk of chunks) {
    const take = Math.min(chunk.byteLength, bytes.byteLength - at);
    bytes.set(chunk.subarray(0, take), at);
    at += take;
    if (at === bytes.byteLength) break;
  }
  return { bytes, complete };
}

function bodyText(bytes: Uint8Array, complete: boolean, contentType: string, limits: BodyLimits): string {
  if (bytes.byteLength === 0) return '(empty body)';
  if (BINARY_TYPE.test(contentType)) {
    return `(binary body${complete ? ` of ${bytes.byteLength} bytes` : ` larger than ${limits.maxBytes} bytes`}, ${contentType}; not shown)`;
  }
  let text = new TextDecoder().decode(bytes);
  if (complete) {
    // Pretty JSON is easier for a model to read; anything else is shown as it came.
    try {
      text = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      // not JSON
    }
  }
  if (text.length > limits.maxChars) {
    const size = complete ? `${text.length} characters` : `more than ${limits.maxBytes} bytes`;
    return `${text.slice(0, limits.maxChars)}\n\n[truncated: showing the first ${limits.maxChars} characters of ${size}; narrow the request (filters, paging) to see the rest]`;
  }
  if (!complete) return `${text}\n\n[truncated: the body is larger than ${limits.maxBytes} bytes; narrow the request (filters, paging) to see the rest]`;
  return text;
}

/**
 * An upstream answer (through the proxy or a capability) as a tool result.
 * An upstream 4xx/5xx is flagged isError so the model notices, but it is the
 * API's answer, not Latchkey's: Latchkey's own refusals go through errorResult.
 */
export async function httpResult(response: Response, limits: BodyLimits, redact: Redact): Promise<CallToolResult> {
  const lines = [`status: ${response.status}`];
  for (const name of SHOWN_HEADERS) {
    const value = response.headers.get(name);
    if (value !== null) lines.push(`${name}: ${value}`);
  }
  const { bytes, complete } = await readLimited(response, limits.maxBytes);
  const body = bodyText(bytes, complete, response.headers.get('content-type') ?? '', limits);
  const text = `${lines.join('\n')}\n\n${body}`;
  const isError = response.status >= 400;
  return {
    content: [{ type: 'text', text: redact(isError ? `The upstream API answered ${response.status}.\n${text}` : text) }],
    ...(isError ? { isError: true } : {}),
  };
}

/** What a model should do next for each refusal, so it does not retry what cannot succeed. */
const HINTS: Record<string, string> = {
  forbidden:
    "This agent's policy does not allow that request; call list_connections to see what it may use. Retrying will not help; " +
    'if you need it, ask a person with request_access.',
  unauthorized: 'The agent key was refused (revoked or wrong); a person must configure a valid key.',
  not_found: 'No such connection or capability for this agent; call list_connections for the exact names.',
  needs_reauth: 'The account must be reconnected by a person (its grant was revoked or expired). Retrying will not help.',
  target_not_allowed: 'Latchkey only sends tokens to the hosts the provider allows; use a path relative to the API base.',
  provider_unavailable: 'The provider is temporarily unavailable; try again later.',
  audit_unavailable: 'Latchkey could not record the request, so it refused it; try again later.',
  upstream_error: 'The upstream API could not be reached or answered garbage; try again later.',
  invalid_request: 'Fix the arguments and try again.',
};

function refusal(code: string, message: string, status?: number, lead = 'Latchkey refused the request'): CallToolResult {
  const hint = HINTS[code];
  const head = `${lead}: ${code}${status === undefined ? '' : ` (HTTP ${status})`}: ${message}`;
  return { content: [{ type: 'text', text: hint === undefined ? head : `${head}\n${hint}` }], isError: true };
}

/** Any failure as a tool result (isError), never a crash of the server. */
export function errorResult(err: unknown, redact: Redact): CallToolResult {
  let result: CallToolResult;
  if (err instanceof LatchkeyApiError) result = refusal(err.code, err.message, err.status);
  else if (err instanceof ToolInputError || err instanceof LatchkeyRequestError) result = refusal('invalid_request', err.message, undefined, 'The request was not sent');
  else if (err instanceof LatchkeyConnectionError) result = refusal('unreachable', `${err.message}. Try again later.`, undefined, 'The request could not be made');
  else result = refusal('internal_error', err instanceof Error ? err.message : String(err), undefined, 'The request failed');
  return { ...result, content: result.content.map((c) => (c.type === 'text' ? { ...c, text: redact(c.text) } : c)) };
}

export function jsonResult(value: unknown, redact: Redact): CallToolResult {
  return { content: [{ type: 'text', text: redact(JSON.stringify(value, null, 2)) }] };
}
