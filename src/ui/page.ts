/** Everything interpolated into a page goes through this. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Served at this path with `style-src 'self'`, so no page needs inline style. */
export const PAGE_CSS_PATH = '/connect/page.css';

export const PAGE_CSS =
  'body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}' +
  'code{background:#f3f3f3;padding:0 .25rem;overflow-wrap:anywhere}' +
  'dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}' +
  'ul.scopes{margin:0;padding-left:1.2rem}' +
  'button{font:inherit;padding:.5rem 1.25rem;border-radius:.375rem;border:1px solid #1d4ed8;background:#1d4ed8;color:#fff;cursor:pointer}' +
  'button:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}' +
  '.note{color:#4a4a4a;font-size:.95rem}\n';

/** A complete page: no script, one same-origin stylesheet. */
export function page(title: string, body: string): string {
  return (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${escapeHtml(title)}</title>` +
    `<link rel="stylesheet" href="${PAGE_CSS_PATH}"></head>` +
    `<body><main>${body}</main></body></html>`
  );
}

/**
 * Headers for Latchkey's server-rendered pages: nothing but its own
 * stylesheet may load, no script runs, nothing frames or caches them, and no
 * URL (a callback's code, a link's token) leaks as a referrer. `formAction`
 * lists where a form on the page may go, redirects included.
 */
export function pageHeaders(formAction: string[] = []): Record<string, string> {
  const action = formAction.length === 0 ? "'none'" : formAction.join(' ');
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    pragma: 'no-cache',
    'content-security-policy': `default-src 'none'; style-src 'self'; img-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action ${action}`,
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
  };
}
