/**
 * Looks for a secret in text an agent received, in every form the broker
 * promises to catch — written independently of src/broker/redact-forms.ts:
 * instead of listing encodings, it decodes what it finds (percent-escapes,
 * `\/`, hex runs, base64 and base64url runs at every alignment).
 */

function decodePercent(text: string): string {
  return text.replace(/(%[0-9A-Fa-f]{2})+/g, (m) => {
    try {
      return decodeURIComponent(m);
    } catch {
      return m;
    }
  });
}

const count = (text: string, secret: string): number => text.split(secret).length - 1;

/** The forms of `secret` found in `text` (empty when none). */
export function leakedForms(text: string, secret: string): string[] {
  const found: string[] = [];
  const raw = count(text, secret);
  if (raw > 0) found.push('raw');
  if (count(decodePercent(text), secret) > raw) found.push('url-encoded');
  if (count(text.replaceAll('\\/', '/'), secret) > raw) found.push('json-escaped');
  for (const run of text.match(/[0-9A-Fa-f]{16,}/g) ?? []) {
    for (const offset of [0, 1]) {
      if (Buffer.from(run.slice(offset), 'hex').includes(secret)) found.push('hex');
    }
  }
  for (const run of text.match(/[A-Za-z0-9+/_-]{12,}/g) ?? []) {
    const standard = run.replace(/-/g, '+').replace(/_/g, '/');
    for (const offset of [0, 1, 2, 3]) {
      if (Buffer.from(standard.slice(offset), 'base64').includes(secret)) found.push(`base64@${offset}`);
    }
  }
  return found;
}

/** A body with the secret in every form, at every base64 alignment (what a hostile echo could send). */
export function everyForm(secret: string): string {
  const forms = [
    secret,
    encodeURIComponent(secret),
    encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
    JSON.stringify(secret).slice(1, -1).replaceAll('/', '\\/'),
    Buffer.from(secret).toString('hex'),
    Buffer.from(secret).toString('hex').toUpperCase(),
  ];
  for (const pad of ['', 'x', 'xy']) {
    forms.push(Buffer.from(`${pad}Bearer ${secret}!`).toString('base64'));
    forms.push(Buffer.from(`${pad}${secret}?>`).toString('base64url'));
  }
  return forms.map((f, i) => `form ${i}: "${f}"`).join('\n');
}
