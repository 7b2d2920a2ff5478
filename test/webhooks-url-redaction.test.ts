import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { maskWebhookUrl } from '../src/events/index.js';
import { adminClient, type AdminCall } from './helpers/admin-client.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { signIn } from './helpers/operators.js';

// Slack and Discord incoming webhooks, and receivers with ?token=, take the URL itself as the credential.
const SLACK = 'https://hooks.slack.com/services/T0000000/B0000000/slackSecretPart0123456789';
const TOKEN_QUERY = 'https://receiver.example.com/?token=querySecret0123456789';

describe('webhook URLs are shown in full to admins only', () => {
  let lk: InProcess;
  const callers: Record<string, AdminCall> = {};

  before(async () => {
    lk = await startInProcess();
    for (const url of [SLACK, TOKEN_QUERY, 'https://plain.example.com/']) {
      assert.equal((await lk.admin('POST', '/v1/webhooks', { url, events: ['*'] })).status, 201);
    }
    for (const [name, role] of [['ada', 'admin'], ['olga', 'operator'], ['vic', 'viewer']] as const) {
      assert.equal((await lk.admin('POST', '/v1/operators', { name, role, password: `${name}-password-0123456789` })).status, 201);
      const key = await lk.admin('POST', `/v1/operators/${name}/keys`, { role });
      assert.equal(key.status, 201, JSON.stringify(key.body));
      callers[role] = adminClient(lk.url, (key.body as { apiKey: string }).apiKey);
    }
  });
  after(async () => lk?.close());

  const urls = async (call: AdminCall): Promise<string[]> => {
    const res = await call('GET', '/v1/webhooks');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return (res.body as Array<{ url: string }>).map((w) => w.url).sort();
  };

  test('a viewer and an operator see the origin and a masked path; an admin (token or admin key) sees the URL', async () => {
    const masked = ['https://hooks.slack.com/…', 'https://plain.example.com/', 'https://receiver.example.com/…'];
    for (const role of ['viewer', 'operator']) {
      const seen = await urls(callers[role] as AdminCall);
      assert.deepEqual(seen, masked, role);
      const text = JSON.stringify(seen);
      assert.ok(!text.includes('slackSecretPart') && !text.includes('querySecret'), `${role} sees no part of the secret path or query`);
    }
    const full = [SLACK, 'https://plain.example.com/', TOKEN_QUERY].sort();
    assert.deepEqual(await urls(callers.admin as AdminCall), full);
    assert.deepEqual(await urls(lk.admin), full);
  });

  test("the console's session call sees what its role may", async () => {
    const vic = await signIn(lk.url, { name: 'vic', password: 'vic-password-0123456789' });
    const res = await vic.call('GET', '/v1/webhooks');
    assert.equal(res.status, 200, res.text);
    assert.ok(!res.text.includes('slackSecretPart'));
    const ada = await signIn(lk.url, { name: 'ada', password: 'ada-password-0123456789' });
    assert.ok((await ada.call('GET', '/v1/webhooks')).text.includes('slackSecretPart'));
  });

  test('maskWebhookUrl keeps the origin only (port included), and marks that something was cut', () => {
    assert.equal(maskWebhookUrl('https://hooks.example.com:8443/a/b?c=d#e'), 'https://hooks.example.com:8443/…');
    assert.equal(maskWebhookUrl('https://hooks.example.com/?x=1'), 'https://hooks.example.com/…');
    assert.equal(maskWebhookUrl('https://hooks.example.com/'), 'https://hooks.example.com/');
    assert.equal(maskWebhookUrl('not a url'), '…');
    assert.ok(!maskWebhookUrl('https://user:userinfoSecret@hooks.example.com/x').includes('userinfoSecret'), 'credentials in the URL are cut too');
  });
});
