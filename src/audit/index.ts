export type { AuditPosition } from '../store/index.js';
export { auditLog, auditPosition, type AuditLog, type AuditQuery, type AuditKeying } from './log.js';
export { CHECKPOINT_DIR, readCheckpoints, signCheckpoint, writeCheckpoint, type Checkpoint, type SignedCheckpoint, type CheckpointFile } from './checkpoint.js';
export { CHECKPOINT_INTERVAL_MS } from './checkpointer.js';
export { verifyAudit, type VerifyResult, type VerifyOptions, type BrokenLink } from './verify.js';
export { pruneAudit, type PruneResult, type PruneDetail } from './prune.js';
export { AuditRetention } from './retention.js';
export { blockSearchKeys, genesisHash, hashBlock, hashEvent, searchKey, macBlock, isKeyedHash, KEYED_PREFIX } from './chain.js';
export { AuditWriter, POISONED_ACTION } from './writer.js';
export {
  ADMIN_ACTOR,
  SYSTEM_ACTOR,
  ANONYMOUS_ACTOR,
  type Actor,
  type AuditDetail,
  type AuditEvent,
  type AuditInput,
  type Outcome,
  type StoredEvent,
} from './types.js';
