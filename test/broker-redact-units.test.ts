import assert from 'node:assert/strict';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { RedactedBody, redactorFor, type Redactor } from '../src/broker/redact.js';
import { scannableAcceptEncoding } from '../src/broker/redact-encoding.js';
import { otherTokensOf } from '../src/tokens/vault.js';
import { everyForm, leakedForms } from './helpers/token-forms.js';

const TOKEN = 'gho_unit/Token+with=every0123456789';

/** A source to write into, and the redacted body read from it. */
function redacting(redactor: Redactor, onFirst?: () => Promise<void>): { source: PassThrough; body: RedactedBody } {
  const source = new PassThrough();
  return { source, body: new RedactedBody(source, redactor, onFirst) };
}

async function through(body: RedactedBody, source: PassThrough, chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  body.on('data', (c: Buffer) => out.push(c));
  for (const c of chunks) source.write(c);
  source.end();
  await once(body, 'end');
  return Buffer.concat(out);
}

describe('RedactedBody', () => {
  const body = Buffer.from(`{"echo":"${everyForm(TOKEN)}"}`);

  test('masks every form wherever the chunks split it, keeping the length', async () => {
    const redactor = redactorFor([TOKEN]);
    for (let split = 1; split < body.length; split += 1) {
      const { source, body: redacted } = redacting(redactor);
      const out = await through(redacted, source, [body.subarray(0, split), body.subarray(split)]);
      assert.equal(out.length, body.length);
      assert.deepEqual(leakedForms(out.toString('latin1'), TOKEN), [], `split at ${split}`);
      assert.ok(redacted.fired);
    }
  });

  test('holds back only bytes that could begin a form: an event stream is not delayed', async () => {
    const { source, body: stream } = redacting(redactorFor([TOKEN]));
    const event = Buffer.from('data: {"progress": 42}\n\n');
    const first = once(stream, 'data');
    source.write(event);
    assert.deepEqual((await first)[0], event);
    const partial = once(stream, 'data');
    source.write(Buffer.from(`data: ${TOKEN.slice(0, 10)}`));
    assert.equal(((await partial)[0] as Buffer).toString(), 'data: ', 'the possible start of the token waits');
    stream.destroy();
    assert.ok(source.destroyed, 'destroying the body stops its source');
  });

  test('the first masking waits for its audit record, and a failed record fails the body', async () => {
    const { source, body: stream } = redacting(redactorFor([TOKEN]), () => Promise.reject(new Error('audit down')));
    stream.on('data', () => assert.fail('nothing may go out before the record'));
    source.end(body);
    const [err] = (await once(stream, 'error')) as [Error];
    assert.equal(err.message, 'audit down');
  });

  test('a source that ends while the record is being written still delivers everything, once', async () => {
    let release = (): void => undefined;
    const { source, body: stream } = redacting(redactorFor([TOKEN]), () => new Promise<void>((r) => (release = r)));
    const out = through(stream, source, [body]);
    await new Promise((r) => setImmediate(r));
    release();
    const got = await out;
    assert.equal(got.length, body.length);
    assert.deepEqual(leakedForms(got.toString('latin1'), TOKEN), []);
  });
});

test('Accept-Encoding upstream is narrowed to codings Latchkey can decode', () => {
  assert.equal(scannableAcceptEncoding(undefined), undefined);
  assert.equal(scannableAcceptEncoding('gzip, zstd;q=1.0, br;q=0.5'), 'gzip, br;q=0.5');
  assert.equal(scannableAcceptEncoding('zstd'), 'identity');
  assert.equal(scannableAcceptEncoding('*'), 'gzip, deflate, br');
});

test('a grant hands the broker its refresh and ID tokens to redact, and only those', () => {
  assert.deepEqual(otherTokensOf({ accessToken: 'a', refreshToken: 'r', idToken: 'i' }), ['r', 'i']);
  assert.deepEqual(otherTokensOf({ accessToken: 'a', refreshToken: '' }), []);
});
