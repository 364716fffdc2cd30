// Use classification: what a request is for, as a probability per label of shared/taxonomy.md.
// The embedded classifier runs in-process on CPU from a model file shipped beside it; the optional
// guard stage asks an external guard model. PII detection and the bulk-collection signal live in
// ./pii and ./bulk and are re-exported here so this file stays the folder's one door.
export {
  loadClassifier,
  classifyInputOf,
  benchClassifier,
  redLineScore,
  wouldBlock,
  RED_LINE_BLOCK_THRESHOLD,
  HEAD_CHARS,
  TAIL_CHARS,
  SYSTEM_CHARS,
  SHIPPED_MODEL_PATH,
} from './classifier.js';
export type { ClassifyInput, Classification, UseClassifier } from './classifier.js';
export { createGuardStage, parseGuardReply } from './guard.js';
export type { GuardStage, GuardStageOptions, GuardVerdict } from './guard.js';
export {
  USE_LABELS,
  RED_LINE_LABELS,
  RESTRICTED_LABELS,
  LAWFUL_LABELS,
  TOOL_EFFECTS,
  isUseLabel,
} from './labels.js';
export type { UseLabel, RedLineLabel, ToolEffect } from './labels.js';
export * from './pii/index.js';
export * from './bulk/index.js';
