import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuthorizationServer } from './fixtures/authorization-server.js';
import { auditEvents, createAgent } from './helpers/broker-setup.js';
import { continueToProvider, openConnectPage, pressContinue, type CreatedLink } from './helpers/connect-link.js';
import type { InProcess } from './helpers/in-process.js';
import { BACKENDS, getConnection, newBrowser, openLink, pageError, startFlowServer, storedTokens, visit } from './helpers/oauth-flows.js';

/** The account an ID token names (the fixture puts the approving account id in `sub`). */
function accountOf(idToken: string | undefined): string | undefined {
  const payload = idToken?.split('.')[1];
  return payload === undefined ? undefined : (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { sub: string }).sub;
}

/**
 * Connect links must not let an agent put another account behind a connection
 * that works: not by finishing a second "new connection" flow after the first
 * made it active, and not with a reconnect link made while it was broken and
 * used after it was repaired.
 */
for (const backend of BACKENDS) {
  describe(`connect links cannot take over a working connection (${backend.name})`, { skip: backend.skip }, () => {
    let as: AuthorizationServer;
    let server: InProcess;
    let close: () => Promise<void>;
    let agentKey: string;

    before(async () => {
      ({ as, server, close } = await startFlowServer(backend, { env: { LATCHKEY_REFRESHER_INTERVAL: '0' } }));
      agentKey = (await createAgent(server, { name: 'mail-bot', policy: { rules: [{ connections: ['mail-*'] }] } })).apiKey;
    });

    after(async () => {
      await close();
    });

    async function agentLink(body: Record<string, unknown>): Promise<CreatedLink> {
      const res = await fetch(`${server.url}/v1/connect-links`, {
        method: 'POST',
        headers: { authorization: `Bearer ${agentKey}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      assert.equal(res.status, 201, text);
      return JSON.parse(text) as CreatedLink;
    }

    async function openStates(connectionId: string): Promise<number> {
      const rows = await server.core.store.db.kysely.selectFrom('oauthStates').select('id').where('connectionId', '=', connectionId).execute();
      return rows.length;
    }

    test('a second new-connection link finished after the first cannot put another account on the now-active connection', async () => {
      const forOwner = await agentLink({ provider: 'fixture', subject: 'boss@corp', name: 'mail-boss' });
      const forAttacker = await agentLink({ provider: 'fixture', subject: 'boss@corp', name: 'mail-boss' });
      // The agent continues its own link first: the pending connection and a consent bound to its browser.
      const attacker = newBrowser();
      const attackerAt = await continueToProvider(forAttacker.url, attacker);
      // The owner uses theirs (the same pending connection) and consents: it is active with the owner's grant.
      const owner = newBrowser();
      const ownerDone = await visit(await as.approve(await continueToProvider(forOwner.url, owner), { accountId: 'boss' }), owner);
      assert.equal(ownerDone.status, 200, ownerDone.body);
      const active = await getConnection(server, 'mail-boss');
      assert.equal(active.status, 'active');
      const ownerTokens = await storedTokens(server, active.id);
      assert.equal(accountOf(ownerTokens.idToken), 'boss');

      // Within the state's 10 minutes, the agent finishes its flow with its own account.
      const attackerDone = await visit(await as.approve(attackerAt, { accountId: 'attacker' }), attacker);
      assert.equal(attackerDone.status, 409, attackerDone.body);
      assert.equal(pageError(attackerDone.body), 'conflict');
      assert.match(attackerDone.body, /already connected by another consent/);
      assert.match(attackerDone.body, /<code id="connection">mail-boss<\/code>/);

      const afterwards = await getConnection(server, 'mail-boss');
      assert.equal(afterwards.id, active.id);
      assert.equal(afterwards.status, 'active');
      assert.equal(afterwards.lastError, null, 'the refused flow leaves no trace on the owner’s connection');
      assert.deepEqual(await storedTokens(server, active.id), ownerTokens, 'the owner’s grant is untouched');
      const refused = (await auditEvents(server, '?connection=mail-boss')).filter((e) => e.outcome === 'denied' && e.action === 'connection.create');
      assert.equal(refused.length, 1, JSON.stringify(refused));
      assert.equal(refused[0]?.detail.link, forAttacker.id);
      assert.equal(refused[0]?.detail.requestedBy, 'mail-bot');
    });

    test('two new-connection callbacks for one pending connection racing: exactly one wins, the other stores nothing', async () => {
      const first = await agentLink({ provider: 'fixture', subject: 'race@corp', name: 'mail-race' });
      const second = await agentLink({ provider: 'fixture', subject: 'race@corp', name: 'mail-race' });
      const a = newBrowser();
      const b = newBrowser();
      const aCallback = await as.approve(await continueToProvider(first.url, a), { accountId: 'alpha' });
      const bCallback = await as.approve(await continueToProvider(second.url, b), { accountId: 'beta' });
      const [aDone, bDone] = await Promise.all([visit(aCallback, a), visit(bCallback, b)]);
      const statuses = [aDone.status, bDone.status].sort();
      assert.deepEqual(statuses, [200, 409], `${aDone.body.slice(0, 300)}\n${bDone.body.slice(0, 300)}`);
      const winner = aDone.status === 200 ? 'alpha' : 'beta';
      const connection = await getConnection(server, 'mail-race');
      assert.equal(connection.status, 'active');
      assert.equal(accountOf((await storedTokens(server, connection.id)).idToken), winner);
    });

    test('an operator’s ordinary flow finished after another one made the connection active is refused too', async () => {
      const start = async (): Promise<{ jar: Map<string, string>; at: string }> => {
        const res = await server.admin('POST', '/v1/connect/fixture', { name: 'plain-twice' });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        const jar = newBrowser();
        return { jar, at: await openLink((res.body as { authorizationUrl: string }).authorizationUrl, jar) };
      };
      const one = await start();
      const two = await start();
      const oneDone = await visit(await as.approve(one.at, { accountId: 'first' }), one.jar);
      assert.equal(oneDone.status, 200, oneDone.body);
      const twoDone = await visit(await as.approve(two.at, { accountId: 'second' }), two.jar);
      assert.equal(twoDone.status, 409, twoDone.body);
      const connection = await getConnection(server, 'plain-twice');
      assert.equal(accountOf((await storedTokens(server, connection.id)).idToken), 'first');
      // Reconnecting it in place by name still works once it is broken.
      await server.core.connections.setStatus(connection.id, 'needs_reauth', 'refused');
      const again = await start();
      const againDone = await visit(await as.approve(again.at, { accountId: 'first' }), again.jar);
      assert.equal(againDone.status, 200, againDone.body);
      assert.equal((await getConnection(server, 'plain-twice')).status, 'active');
    });

    test('a new-connection link never picks up a pending connection that held a grant', async () => {
      const made = await server.admin('POST', '/v1/connections/import', { name: 'mail-held', provider: 'fixture', accessToken: 'at-held' });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      // A broken connection an operator starts again by name goes back to pending, its grant still stored.
      await server.core.connections.setStatus((made.body as { id: string }).id, 'pending', null);
      const res = await fetch(`${server.url}/v1/connect-links`, {
        method: 'POST',
        headers: { authorization: `Bearer ${agentKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ provider: 'fixture', subject: 'eve', name: 'mail-held' }),
      });
      assert.equal(res.status, 409, await res.text());
    });

    async function brokenImport(name: string): Promise<string> {
      // A grant that names no account (no ID token), so a reconnect has nothing to compare.
      const imported = await server.admin('POST', '/v1/connections/import', { name, provider: 'fixture', accessToken: `at-${name}` });
      assert.equal(imported.status, 201, JSON.stringify(imported.body));
      const id = (imported.body as { id: string }).id;
      await server.core.connections.setStatus(id, 'needs_reauth', 'refused');
      return id;
    }

    test('an agent’s reconnect link made while the connection was broken no longer applies once it is repaired', async () => {
      const id = await brokenImport('mail-work');
      const link = await agentLink({ connection: 'mail-work', expiresIn: '30d' });
      // An operator repairs the connection (as a reconnect or a refresh would).
      await server.core.connections.setStatus(id, 'active', null);

      const page = await openConnectPage(link.url);
      assert.equal(page.status, 409, page.body);
      assert.equal(pageError(page.body), 'conflict');
      assert.match(page.body, /works again/);
      const jar = newBrowser();
      const pressed = await pressContinue(link.url, jar);
      assert.equal(pressed.status, 409, pressed.body);
      assert.equal(pageError(pressed.body), 'conflict');
      assert.equal(pressed.location, null, 'not sent to the provider');
      assert.equal(pressed.headers.getSetCookie().length, 0, 'no flow bound to the browser');
      assert.equal(await openStates(id), 0, 'no authorization request was started');

      const connection = await getConnection(server, 'mail-work');
      assert.equal(connection.status, 'active');
      assert.equal((await storedTokens(server, id)).accessToken, 'at-mail-work');
      const listed = (await server.admin('GET', '/v1/connect-links')).body as Array<{ id: string; status: string }>;
      assert.notEqual(listed.find((l) => l.id === link.id)?.status, 'used', 'the link was not used up');
      const refused = (await auditEvents(server, '?action=connect_link.use')).filter((e) => e.detail.link === link.id);
      assert.equal(refused.length, 1, JSON.stringify(refused));
      assert.equal(refused[0]?.outcome, 'denied');
      assert.equal(refused[0]?.connection, 'mail-work');
      assert.equal(refused[0]?.detail.reconnect, true);
      assert.match(String(refused[0]?.detail.reason), /works again/);
    });

    test('an agent’s reconnect link continued while broken is refused at the callback if the connection was repaired meanwhile', async () => {
      const id = await brokenImport('mail-late');
      const link = await agentLink({ connection: 'mail-late' });
      const jar = newBrowser();
      const providerUrl = await continueToProvider(link.url, jar);
      await server.core.connections.setStatus(id, 'active', null);
      const done = await visit(await as.approve(providerUrl, { accountId: 'attacker' }), jar);
      assert.equal(done.status, 409, done.body);
      assert.equal(pageError(done.body), 'conflict');
      assert.equal((await getConnection(server, 'mail-late')).status, 'active');
      assert.equal((await storedTokens(server, id)).accessToken, 'at-mail-late');
      const refused = (await auditEvents(server, '?connection=mail-late')).filter((e) => e.outcome === 'denied');
      assert.ok(refused.some((e) => e.action === 'connection.reauthorize' && e.detail.link === link.id), JSON.stringify(refused));
    });

    test('an agent’s reconnect link still repairs a connection that is still broken', async () => {
      const id = await brokenImport('mail-fix');
      const link = await agentLink({ connection: 'mail-fix' });
      const jar = newBrowser();
      const done = await visit(await as.approve(await continueToProvider(link.url, jar)), jar);
      assert.equal(done.status, 200, done.body);
      assert.match(done.body, /data-outcome="reconnected"/);
      const connection = await getConnection(server, 'mail-fix');
      assert.equal(connection.id, id);
      assert.equal(connection.status, 'active');
    });
  });
}
