import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import { ManualClock } from '../src/clock.js';
import { admission, type ProviderContext } from '../src/server/mcp/admission.js';
import { loadOidcProvider } from '../src/server/mcp/oidc.js';
import { startInProcess } from './helpers/in-process.js';

// The admission middleware learns oidc-provider's route from an internal (ctx._matchedRouteName) and the adapter
// finds the request through another (Provider.ctx). When either stops working, an unauthenticated request must
// store nothing rather than store without limits.

function fakeContext(): ProviderContext {
  return { querystring: '', req: { headers: {}, socket: { remoteAddress: '127.0.0.1' } } as unknown as IncomingMessage, res: {} as ServerResponse, status: 200, body: undefined, type: '', set: () => undefined };
}

test('a request whose route the admission middleware did not see stores no Client, Interaction or pushed request; other models and the consent route are unaffected', async () => {
  const gate = admission({ clock: new ManualClock(), trustProxy: false });

  const named = fakeContext();
  await gate.middleware(named, async () => {
    (named as ProviderContext & { _matchedRouteName?: string })._matchedRouteName = 'registration';
    await Promise.resolve();
  });
  assert.equal(gate.mayStore('Client', named, true), true, 'a registration the middleware admitted stores its client');

  // A router that names its routes some other way: the middleware never sees the assignment.
  const unseen = fakeContext();
  await gate.middleware(unseen, () => Promise.resolve());
  for (const model of ['Client', 'Interaction', 'PushedAuthorizationRequest']) assert.equal(gate.mayStore(model, unseen, true), false, model);
  assert.equal(gate.mayStore('Grant', unseen, true), true, 'what only an authenticated flow writes is not gated');

  // oidc-provider no longer exposing the request's context: inside an /mcp-oauth request that is refused too.
  assert.equal(gate.mayStore('Client', undefined, true), false);
  assert.equal(gate.mayStore('Interaction', undefined, true), false);
  // The consent route saves the interaction outside any /mcp-oauth request.
  assert.equal(gate.mayStore('Interaction', undefined, false), true);
});

test('a registration through the real server stores nothing when oidc-provider no longer exposes its request context (500, no Client row)', async () => {
  const lk = await startInProcess();
  const { default: Provider } = await loadOidcProvider();
  const original = Object.getOwnPropertyDescriptor(Provider, 'ctx');
  assert.ok(original, 'oidc-provider has a static ctx');
  try {
    const register = (): Promise<Response> =>
      fetch(`${lk.url}/mcp-oauth/reg`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_name: 'Backstop', redirect_uris: ['http://127.0.0.1:9/cb'], token_endpoint_auth_method: 'none' }),
      });
    const count = async (): Promise<number> => (await lk.core.store.db.kysely.selectFrom('mcpOauth').select('idHash').where('model', '=', 'Client').execute()).length;

    Object.defineProperty(Provider, 'ctx', { configurable: true, get: () => undefined });
    const refused = await register();
    assert.equal(refused.status, 500);
    assert.equal(((await refused.json()) as { error: string }).error, 'server_error');
    assert.equal(await count(), 0);

    Object.defineProperty(Provider, 'ctx', original);
    const stored = await register();
    assert.equal(stored.status, 201);
    assert.equal(await count(), 1);
  } finally {
    Object.defineProperty(Provider, 'ctx', original);
    await lk.close();
  }
});
