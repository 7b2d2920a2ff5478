import { escapeHtml, page, pageHeaders } from './page.js';

export { escapeHtml } from './page.js';

export type ConnectOutcome = 'connected' | 'reconnected';

export function successPage(connectionName: string, providerName: string, outcome: ConnectOutcome = 'connected'): string {
  const title = outcome === 'reconnected' ? 'Reconnected' : 'Connected';
  const what =
    outcome === 'reconnected'
      ? `Latchkey reconnected <code>${escapeHtml(connectionName)}</code> to ${escapeHtml(providerName)}: it works again, for everything that used it before.`
      : `Latchkey now holds the connection <code>${escapeHtml(connectionName)}</code> to ${escapeHtml(providerName)}.`;
  return page(title, `<h1 id="success" data-outcome="${outcome}">${title}</h1><p>${what} You can close this window.</p>`);
}

/** The failure page; `connectionName` when the request was found, `denied` when the person declined at the provider. */
export function errorPage(code: string, message: string, options: { connectionName?: string; denied?: boolean } = {}): string {
  const title = options.denied === true ? 'Access denied' : 'Connection failed';
  const about =
    options.connectionName === undefined ? '' : `<p>Connection: <code id="connection">${escapeHtml(options.connectionName)}</code></p>`;
  const heading = options.denied === true ? '<h1 id="denied">Access denied</h1>' : '<h1>Connection failed</h1>';
  return page(
    title,
    `${heading}<p id="error" data-error="${escapeHtml(code)}">${escapeHtml(message)}</p>${about}` +
      '<p>Nothing was stored. Start the connection again from Latchkey.</p>',
  );
}

/** Headers for both pages: they hold no form. */
export const PAGE_HEADERS = pageHeaders();
