export { agentRegistry, type Agent, type AgentKeyView, type AgentRegistry, type AuthenticatedAgent } from './registry.js';
export {
  parsePolicy,
  isAllowed,
  mayUseConnection,
  mayCallTool,
  mayUseMcpServer,
  isMcpRule,
  grantedCapabilities,
  fitsCapability,
  underPrefix,
  DEFAULT_LEASE_TTL_SECONDS,
  type Policy,
  type PolicyRule,
  type ApiRule,
  type McpRule,
  type LeasePolicy,
  type AccessRequest,
} from './policy.js';
export { generateAgentKey, hashAgentKey, AGENT_KEY_PATTERN } from './keys.js';
export { pathGlob, nameGlob } from './globs.js';
export { leaseService, leaseSeconds, type LeaseService, type LeaseGranted, type LeaseView, type LeaseDeps, type LeaseEnded } from './leases.js';
export { agentActorOf } from './actor.js';
export {
  proposalService,
  proposalsUrlOf,
  pathWithin,
  MAX_PENDING_PROPOSALS,
  REASON_MAX,
  DENY_REASON_MAX,
  type ProposalService,
  type ProposalView,
  type ProposalRequest,
  type ProposalInput,
  type ApprovalInput,
  type LeaseAsk,
} from './proposals.js';
export { readCache, READ_CACHE_MS, type ReadCache } from './read-cache.js';
