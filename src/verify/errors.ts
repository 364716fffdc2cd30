// The verifier's one error type. Every failure on attacker-controlled input (a proof, a note, a tile, a
// key) becomes a VerificationError with a code, so callers and tests branch on the code, never on the
// message (the sigstore-js shape: packages/verify/src/error.ts).

export type VerificationErrorCode =
  /** A signature from a trusted key did not verify. */
  | 'BAD_SIGNATURE'
  /** No signature on the note comes from a trusted key. */
  | 'UNKNOWN_KEY'
  /** A verifier key (vkey) string is not `name+hex(id)+base64(0x01||pubkey)`, or its id does not match. */
  | 'MALFORMED_KEY'
  /** The text is not a signed note (blank line, signature lines, UTF-8, control characters, base64). */
  | 'MALFORMED_NOTE'
  /** The note text is not a checkpoint (origin, size, root hash, extension lines). */
  | 'MALFORMED_CHECKPOINT'
  /** The checkpoint is for a different log than the one expected. */
  | 'ORIGIN_MISMATCH'
  /** A recomputed root does not equal the expected root. */
  | 'ROOT_MISMATCH'
  /** A proof has more or fewer hashes than its index and sizes require. */
  | 'BAD_PROOF_LENGTH'
  /** A proof is not a list of byte strings. */
  | 'MALFORMED_PROOF'
  /** A hash (leaf, root or proof element) is not 32 bytes. */
  | 'BAD_HASH_LENGTH'
  /** A leaf index is not below the tree size. */
  | 'INDEX_OUT_OF_RANGE'
  /** A consistency proof does not link the two roots. */
  | 'INCONSISTENT'
  /** The newer tree is smaller than the older one. */
  | 'SIZE_DECREASED'
  /** A consistency proof from the empty tree proves nothing; compare the empty root instead. */
  | 'EMPTY_TREE'
  /** A tile has the wrong length for its position, or a tile path is not canonical. */
  | 'MALFORMED_TILE'
  /** An entry bundle is truncated, has trailing bytes, or holds the wrong number of entries. */
  | 'MALFORMED_BUNDLE'
  /** A log entry is not the JSON object the ledger writes. */
  | 'MALFORMED_ENTRY'
  /** A disclosed salt and content do not hash to the entry's commitment. */
  | 'COMMITMENT_MISMATCH'
  /** A value cannot be canonicalised as RFC 8785 JSON. */
  | 'NOT_CANONICALISABLE'
  /** A caller-supplied fetcher failed or returned something that is not bytes. */
  | 'FETCH_FAILED'
  /** A numeric argument is not a non-negative safe integer, or is outside its allowed range. */
  | 'INVALID_ARGUMENT'
  /** An approval receipt is not the signed JSON object redline issues (shape, types, encoding). */
  | 'MALFORMED_RECEIPT'
  /** A receipt was issued for a different tool than the one about to run. */
  | 'TOOL_MISMATCH'
  /** The arguments about to be used are not the ones the approvers saw. */
  | 'ARGS_MISMATCH'
  /** A receipt's validity window has ended. */
  | 'EXPIRED'
  /** A receipt's issue time is later than the verifier's clock allows. */
  | 'NOT_YET_VALID';

export class VerificationError extends Error {
  readonly code: VerificationErrorCode;

  constructor(code: VerificationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'VerificationError';
    this.code = code;
  }
}

export function isVerificationError(e: unknown): e is VerificationError {
  return e instanceof VerificationError;
}

/** Checks that n is a non-negative integer small enough to be exact in a JS number. */
export function assertIndex(n: unknown, what: string): asserts n is number {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new VerificationError('INVALID_ARGUMENT', `${what} must be a non-negative safe integer`);
  }
}
