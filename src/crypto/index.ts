export { seal, open, envelopeKeyId, OpenError, type DataKey, type SealContext } from './seal.js';
export {
  Keyring,
  MasterKeyMismatch,
  SEAL_LIMIT_PER_KEY,
  type KeyringStore,
  type StoredKey,
  type KeyStatus,
} from './keyring.js';
export { loadMasterKey, MasterKeyExposed, MasterKeyMissing, MASTER_KEY_FILE } from './master-key.js';
export { rotateKeys, type RotationResult, type SealedValueSource, type SealedValueRef } from './rotate.js';
export { deriveKey } from './derive.js';
