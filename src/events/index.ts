export {
  EVENT_TYPES,
  isProviderEvent,
  type EventType,
  type EmitEvent,
  type ConnectionEventData,
  type ConnectionEventType,
  type ProviderEventData,
  type ProviderEventType,
  type AuditEventType,
  type CheckpointEventData,
  type ProposalEventData,
  type ProposalEventType,
  isProposalEvent,
} from './types.js';
export { eventOutbox, safeEmit, type EventBody } from './outbox.js';
export { signatureHeader, verifySignature, SIGNATURE_HEADER } from './signature.js';
export { webhookRegistry, toPublicWebhook, maskWebhookUrl, type WebhookRegistry, type WebhookInput, type PublicWebhook } from './webhooks.js';
export { WebhookDelivery, type DeliveryOptions } from './delivery.js';
