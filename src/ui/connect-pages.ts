import type { ConnectLinkPage } from '../oauth/index.js';
import { escapeHtml, page } from './page.js';

function askedBy(requestedBy: ConnectLinkPage['requestedBy']): string {
  const name = escapeHtml(requestedBy.name ?? 'unknown');
  if (requestedBy.type === 'operator') return `The operator <strong id="asked-by">${name}</strong>`;
  if (requestedBy.type === 'agent') return `The agent <strong id="asked-by">${name}</strong>`;
  return `<strong id="asked-by">The Latchkey administrator</strong>`;
}

/** `2026-12-07 09:02 UTC`: readable, and the same for every reader (the page runs no script to localise it). */
function readableTime(iso: string): string {
  return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * The page a connect link opens: what will be connected and who asked, and a
 * Continue button that posts back to this same URL (the form has no action,
 * so the link's token is not written into the page).
 */
export function connectPage(view: ConnectLinkPage): string {
  const provider = escapeHtml(view.providerDisplayName);
  const verb = view.reconnect ? 'Reconnect' : 'Connect';
  const scopes =
    view.scopes.length === 0
      ? '<dd>the provider’s defaults</dd>'
      : `<dd><ul class="scopes" id="scopes">${view.scopes.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('')}</ul></dd>`;
  const rows = [
    `<dt>Provider</dt><dd id="provider">${provider}</dd>`,
    view.subject === null ? '' : `<dt>Account</dt><dd id="subject">${escapeHtml(view.subject)}</dd>`,
    view.connectionName === null ? '' : `<dt>Connection</dt><dd><code id="connection">${escapeHtml(view.connectionName)}</code></dd>`,
    `<dt>Access</dt>${scopes}`,
    `<dt>Link expires</dt><dd><time id="expires" datetime="${escapeHtml(view.expiresAt)}">${escapeHtml(readableTime(view.expiresAt))}</time></dd>`,
  ].join('');
  const purpose = view.reconnect
    ? `${askedBy(view.requestedBy)} asked you to reconnect your ${provider} account: Latchkey’s access to it stopped working.`
    : `${askedBy(view.requestedBy)} asked you to connect your ${provider} account to Latchkey.`;
  return page(
    `${verb} ${view.providerDisplayName}`,
    `<h1 id="title">${verb} your ${provider} account</h1><p>${purpose}</p><dl>${rows}</dl>` +
      `<form method="post"><button type="submit" id="continue">Continue to ${provider}</button></form>` +
      '<p class="note">Continue only if you expected this request. You will sign in at the provider, not here; ' +
      'Latchkey keeps the access it is given encrypted. This link works once, in this browser.</p>',
  );
}

const GONE: Record<'used' | 'expired' | 'unknown', { title: string; text: string }> = {
  used: { title: 'Link already used', text: 'This connect link was already used. Ask whoever sent it for a new one.' },
  expired: { title: 'Link expired', text: 'This connect link has expired. Ask whoever sent it for a new one.' },
  unknown: { title: 'Link not valid', text: 'This connect link is not valid. Check that it was copied whole, or ask for a new one.' },
};

/** A link that cannot be used (any more); `data-link` says why, for scripts and tests. */
export function linkGonePage(kind: 'used' | 'expired' | 'unknown'): string {
  const { title, text } = GONE[kind];
  return page(title, `<h1 id="gone" data-link="${kind}">${title}</h1><p>${text}</p>`);
}

/** A refused Continue (cross-site post, a provider problem): the code in `data-error`. */
export function linkErrorPage(code: string, message: string): string {
  return page(
    'Could not continue',
    `<h1>Could not continue</h1><p id="error" data-error="${escapeHtml(code)}">${escapeHtml(message)}</p>`,
  );
}
