// Human approval of held tool calls: the service the gateway holds calls with, signed receipts, and
// the webhook that tells people something waits. Receipt verification is in src/verify (redline/verify).
export { createApprovalService, requiredApprovers, mayDecide, DEFAULT_APPROVER_ROLES } from './service.js';
export { createReceiptSigner, type ReceiptSigner } from './receipt.js';
export { verifyWebhookSignature, webhookSignature, SIGNATURE_HEADER } from './webhook.js';
export type {
  Approval,
  ApprovalDecision,
  ApprovalRequirement,
  ApprovalService,
  ApprovalServiceOptions,
  ApprovalStatus,
  Approver,
  HoldInput,
  ListOptions,
  PrincipalRef,
  Verdict,
  WebhookConfig,
  ToolEffect,
} from './types.js';
export type { Receipt, ReceiptPayload, VerifiedReceipt } from '../verify/index.js';
