/**
 * The spellings of one secret an upstream could reflect: as it is, URL-encoded
 * (either hex case), JSON-escaped (`\/`), hex (either case), and base64 and
 * base64url at each of the three alignments it can have inside a longer
 * base64 string (an echoed `Authorization` header, a base64 JSON blob).
 */

/** Forms shorter than this are not looked for: they would match ordinary text. */
export const MIN_FORM_LENGTH = 8;

/**
 * The characters of the base64 encoding that depend on the secret alone when
 * it starts `offset` bytes (0, 1 or 2) into a longer encoded byte string:
 * the edge characters that mix in neighbouring bytes are trimmed.
 */
export function base64Core(secret: Buffer, offset: number, encoding: 'base64' | 'base64url'): string {
  const text = Buffer.concat([Buffer.alloc(offset), secret]).toString(encoding).replace(/=+$/, '');
  const first = Math.ceil((8 * offset) / 6);
  const end = Math.floor((8 * (offset + secret.length)) / 6);
  return text.slice(first, end);
}

/** Every form of `secret` worth looking for, longest first, without repeats. */
export function secretForms(secret: string): Buffer[] {
  const bytes = Buffer.from(secret, 'utf8');
  const encoded = encodeURIComponent(secret);
  const forms = new Set<string>([
    secret,
    encoded,
    encoded.replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
    JSON.stringify(secret).slice(1, -1).replaceAll('/', '\\/'),
    bytes.toString('hex'),
    bytes.toString('hex').toUpperCase(),
  ]);
  for (const offset of [0, 1, 2]) {
    forms.add(base64Core(bytes, offset, 'base64'));
    forms.add(base64Core(bytes, offset, 'base64url'));
  }
  return [...forms]
    .filter((f) => f.length >= MIN_FORM_LENGTH)
    .sort((a, b) => b.length - a.length)
    .map((f) => Buffer.from(f, 'latin1'));
}
