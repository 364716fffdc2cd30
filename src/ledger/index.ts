// The transparency ledger: an append-only RFC 9162 Merkle log of decisions, stored in SQLite, signed as
// C2SP checkpoints and served as C2SP tlog-tiles. Verification lives in src/verify (redline/verify).
export { createLedger, openLedgerReader, type LedgerOptions } from './ledger.js';
export { startLedgerThread, type LedgerThreadOptions } from './thread.js';
export { commitContent, contentSalt, pseudonymizePrincipal, toLedgerEntry, entryBytes, type AppendOptions } from './entry.js';
export { loadOrCreateSigningKey, rotateSigningKey, readVerifierKeys, signingKeyFrom, KEY_FILE, VERIFIERS_FILE, type SigningKey } from './keys.js';
export { verifyDisclosure } from '../verify/index.js';
export type {
  Ledger,
  LedgerReader,
  LedgerEntry,
  LedgerEntryInput,
  LedgerDecision,
  LedgerRecord,
  LedgerSigner,
  LedgerStats,
} from './types.js';
