export { auditLog, type AuditLog, type AuditQuery } from './log.js';
export { verifyAudit, type VerifyResult, type BrokenLink } from './verify.js';
export { pruneAudit, type PruneResult, type PruneDetail } from './prune.js';
export { AuditRetention } from './retention.js';
export { blockSearchKeys, genesisHash, hashBlock, hashEvent, searchKey } from './chain.js';
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
