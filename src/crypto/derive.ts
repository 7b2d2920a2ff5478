import { hkdfSync } from 'node:crypto';

/**
 * A 32-byte key for one purpose, derived from the master key (HKDF-SHA256,
 * info = purpose): keys for different jobs never equal each other or the
 * master key, and none is stored.
 */
export function deriveKey(masterKey: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), purpose, 32));
}
