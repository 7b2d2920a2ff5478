import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, test } from 'node:test';
import { RedactStream, redactorFor } from '../src/broker/redact.js';
import { scannableAcceptEncoding } from '../src/broker/redact-encoding.js';
import { everyForm, leakedForms } from './helpers/token-forms.js';

const TOKEN = 'gho_unit/Token+with=every0123456789';

async function through(stream: RedactStream, chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  stream.on('data', (c: Buffer) => out.push(c));
  for (const c of chunks) stream.write(c);
  stream.end();
  await once(stream, 'end');
  return Buffer.concat(out);
}

describe('RedactStream', () => {
  const body = Buffer.from(`{"echo":"${everyForm(TOKEN)}"}`);

  test('masks every form wherever the chunks split it, keeping the length', async () => {
    const redactor = redactorFor([TOKEN]);
    for (let split = 1; split < body.length; split += 1) {
      const stream = new RedactStream(redactor);
      const out = await through(stream, [body.subarray(0, split), body.subarray(split)]);
      assert.equal(out.length, body.length);
      assert.deepEqual(leakedForms(out.toString('latin1'), TOKEN), [], `split at ${split}`);
      assert.ok(stream.fired);
    }
  });

  test('holds back only bytes that could begin a form: an event stream is not delayed', async () => {
    const stream = new RedactStream(redactorFor([TOKEN]));
    const event = Buffer.from('data: {"progress": 42}\n\n');
    const first = once(stream, 'data');
    stream.write(event);
    assert.deepEqual((await first)[0], event);
    const partial = once(stream, 'data');
    stream.write(Buffer.from(`data: ${TOKEN.slice(0, 10)}`));
    assert.equal(((await partial)[0] as Buffer).toString(), 'data: ', 'the possible start of the token waits');
    stream.destroy();
  });

  test('the first masking waits for its audit record, and a failed record fails the body', async () => {
    const stream = new RedactStream(redactorFor([TOKEN]), () => Promise.reject(new Error('audit down')));
    stream.on('data', () => assert.fail('nothing may go out before the record'));
    stream.write(body);
    const [err] = (await once(stream, 'error')) as [Error];
    assert.equal(err.message, 'audit down');
  });
});

test('Accept-Encoding upstream is narrowed to codings Latchkey can decode', () => {
  assert.equal(scannableAcceptEncoding(undefined), undefined);
  assert.equal(scannableAcceptEncoding('gzip, zstd;q=1.0, br;q=0.5'), 'gzip, br;q=0.5');
  assert.equal(scannableAcceptEncoding('zstd'), 'identity');
  assert.equal(scannableAcceptEncoding('*'), 'gzip, deflate, br');
});
