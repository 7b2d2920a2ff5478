import { startAuthorizationServer } from './fixtures/authorization-server.js';
import { launchChromium } from './helpers/browser.js';
import { ADMIN, startInProcess } from './helpers/in-process.js';
import { addFixtureProvider } from './helpers/oauth-flows.js';
import { assertAccessible, screenshot } from './helpers/console.js';
const as = await startAuthorizationServer();
const server = await startInProcess({ env: { LATCHKEY_REFRESHER_INTERVAL: '0' } });
as.setRedirectUris([`${server.url}/oauth/callback`]);
await addFixtureProvider(server, as, { name: '<b>fix</b>' === '' ? 'x' : 'fixture' });
await server.admin('POST', '/v1/agents', { name: 'bot', policy: { rules: [{ connections: ['*'], methods: ['GET'] }] } });
await server.admin('POST', '/v1/webhooks', { url: 'https://127.0.0.1:9/hook', events: ['*'] });
const browser = await launchChromium();
const ctx = await browser.newContext();
await ctx.route('**/v1/**', async (route) => {
  const url = new URL(route.request().url());
  if (url.pathname === '/v1/session') return route.fulfill({ json: { operator: { id: 'op', name: 'dev', role: 'admin' }, csrfToken: 'x', expiresAt: '2030-01-01T00:00:00Z' } });
  if (url.pathname === '/v1/operators') return route.fulfill({ json: [{ id: 'op', name: 'dev', role: 'admin', createdAt: '2026-01-01T00:00:00Z' }] });
  if (url.pathname === '/v1/proposals') return route.fulfill({ json: [{ id: 'prp_1', agent: { id: 'a', name: 'bot' }, status: 'pending', request: { connection: 'x', methods: ['GET'] }, reason: 'need it', createdAt: '2026-01-01T00:00:00Z', decidedAt: null, decidedBy: null, rule: null }] });
  return route.continue({ headers: { ...route.request().headers(), authorization: `Bearer ${ADMIN}` } });
});
const page = await ctx.newPage();
page.on('console', (m) => console.log('console:', m.text()));
page.on('pageerror', (e) => console.log('pageerror:', e.message));
for (const p of ['', 'providers', 'connections', 'agents', 'leases', 'audit', 'webhooks', 'proposals', 'operators']) {
  await page.goto(`${server.url}/console/${p}`);
  await page.waitForSelector('#page-title');
  await page.waitForTimeout(300);
  await screenshot(page, `dev-${p || 'overview'}`);
  try { await assertAccessible(page, p); console.log(p, 'axe ok'); } catch (e) { console.log(p, String(e).slice(0, 1500)); }
}
await browser.close(); await server.close(); await as.close();
