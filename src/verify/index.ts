// redline/verify: everything needed to check redline's ledger from the outside, with no dependency but
// node:crypto. It fetches nothing itself; callers pass the checkpoint text, proofs, or fetcher functions
// for tiles and entry bundles, plus the trusted verifier keys.
export { VerificationError, isVerificationError, type VerificationErrorCode } from './errors.js';
export { toBase64, fromBase64, toHex, fromHex, bytesEqual, utf8 } from './encoding.js';
export {
  HASH_SIZE,
  EMPTY_ROOT,
  sha256,
  leafHash,
  nodeHash,
  rootFromLeaves,
  rootFromInclusionProof,
  verifyInclusion,
  verifyConsistency,
  inclusionRanges,
  consistencyRanges,
  rangeNodes,
  foldRange,
  perfectRoot,
  splitPoint,
  TreeBuilder,
  sha256Hex,
  type NodeId,
  type LeafRange,
} from './merkle.js';
export { canonicalize, canonicalBytes } from './jcs.js';
export { hmacSha256 } from './hmac.js';
export {
  ALG_ED25519,
  ed25519KeyId,
  formatVerifierKey,
  parseVerifierKey,
  parseNote,
  verifyNote,
  signatureLine,
  isValidKeyName,
  type VerifierKey,
  type NoteSignature,
  type VerifiedNote,
} from './note.js';
export { parseCheckpoint, formatCheckpoint, verifyCheckpoint, type Checkpoint, type VerifiedCheckpoint } from './checkpoint.js';
export {
  TILE_WIDTH,
  TILE_HEIGHT,
  MAX_ENTRY_SIZE,
  tilePath,
  entriesPath,
  parseTilePath,
  encodeEntryBundle,
  parseEntryBundle,
  tileWidthAt,
  fetchEntry,
  TileHashReader,
  type ParsedTilePath,
  type TileFetcher,
  type EntryBundleFetcher,
} from './tiles.js';
export { commitmentOf, verifyDisclosure } from './disclosure.js';
export { verifyAllEntries, verifyEntryInclusion, verifyCheckpointConsistency, verifyDisclosedEntry, type RebuildResult } from './log.js';
export { verifyReceipt, parseReceipt, hashToolArguments, receiptKeyId, receiptSigningBytes, RECEIPT_VERSION, type Receipt, type ReceiptPayload, type ReceiptPrincipal, type ReceiptApprover, type ReceiptKey, type ArgsEncoding, type VerifyReceiptOptions, type VerifiedReceipt } from './receipt.js';
export {
  REPORT_FORMAT,
  NONE_KEY,
  ReportError,
  isReportError,
  UsageScanner,
  buildUsageReport,
  verifyUsageReport,
  parseUsageReport,
  parseRfc3339,
  normaliseReportTime,
  type ReportErrorCode,
  type UsageQuery,
  type UsageCounts,
  type UsageReport,
  type Tally,
  type EntryMatch,
  type VerifyReportOptions,
  type VerifiedUsageReport,
  type ReportStep,
} from './report.js';
