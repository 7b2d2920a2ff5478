/** Everything interpolated into a page goes through this. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return (
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${escapeHtml(title)}</title>` +
    '<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;line-height:1.5}' +
    'code{background:#f3f3f3;padding:0 .25rem}</style></head>' +
    `<body>${body}</body></html>`
  );
}

export function successPage(connectionName: string, providerName: string): string {
  return page(
    'Connected',
    `<h1 id="success">Connected</h1><p>Latchkey now holds the connection <code>${escapeHtml(connectionName)}</code> ` +
      `to ${escapeHtml(providerName)}. You can close this window.</p>`,
  );
}

export function errorPage(code: string, message: string): string {
  return page(
    'Connection failed',
    `<h1>Connection failed</h1><p id="error" data-error="${escapeHtml(code)}">${escapeHtml(message)}</p>` +
      '<p>Nothing was stored. Start the connection again from Latchkey.</p>',
  );
}

/** Headers for both pages: nothing may load, be framed, cached, or learn the callback URL as a referrer. */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
} as const;
