import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** A data-encryption key and its id, as the envelope names it. */
export interface DataKey {
  id: string;
  key: Buffer;
}

/** Where a ciphertext belongs. The AAD binds it there: copied to another row or column, it does not open. */
export interface SealContext {
  table: string;
  rowId: string;
  column: string;
}

const VERSION = 'lk1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class OpenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OpenError';
  }
}

function aadOf(context: SealContext): Buffer {
  return Buffer.from(`${context.table}\u0000${context.rowId}\u0000${context.column}`, 'utf8');
}

/** AES-256-GCM with a random 96-bit nonce. Envelope: `lk1.<keyId>.<base64url(nonce | ciphertext | tag)>`. */
export function seal(key: DataKey, plaintext: Buffer | string, context: SealContext): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aadOf(context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const packed = Buffer.concat([nonce, body, cipher.getAuthTag()]);
  return `${VERSION}.${key.id}.${packed.toString('base64url')}`;
}

export function envelopeKeyId(envelope: string): string {
  const parts = envelope.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION || parts[1] === '') {
    throw new OpenError('not a Latchkey sealed value');
  }
  return parts[1] as string;
}

export function open(key: DataKey, envelope: string, context: SealContext): Buffer {
  const keyId = envelopeKeyId(envelope);
  if (keyId !== key.id) throw new OpenError(`sealed under key ${keyId}, not ${key.id}`);
  const packed = Buffer.from(envelope.split('.')[2] as string, 'base64url');
  if (packed.length < NONCE_BYTES + TAG_BYTES) throw new OpenError('sealed value is truncated');
  const nonce = packed.subarray(0, NONCE_BYTES);
  const tag = packed.subarray(packed.length - TAG_BYTES);
  const body = packed.subarray(NONCE_BYTES, packed.length - TAG_BYTES);
  // An explicit authTagLength: without it Node accepts a truncated tag.
  const decipher = createDecipheriv('aes-256-gcm', key.key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aadOf(context));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch (cause) {
    throw new OpenError(`sealed value for ${context.table}.${context.column} does not open for this row`, { cause });
  }
}
