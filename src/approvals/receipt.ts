// Issuing approval receipts. The format and its verifier live in src/verify/receipt.ts, which is what
// a tool executor runs; this side only fills in the payload and signs its canonical bytes.
import { sign, type KeyObject } from 'node:crypto';
import { signingKeyFrom, type SigningKey } from '../ledger/index.js';
import { receiptKeyId, receiptSigningBytes, RECEIPT_VERSION, toBase64, type Receipt, type ReceiptPayload } from '../verify/index.js';

export interface ReceiptSigner {
  /** `<name>+<hex key id>`, as written into receipts. */
  keyId: string;
  /** The C2SP vkey executors should trust. */
  vkey: string;
  sign(payload: Omit<ReceiptPayload, 'v' | 'key_id'>): Receipt;
}

/** Reuses the ledger's key handling: the key is loaded (or made) by loadOrCreateSigningKey, then named here. */
export function createReceiptSigner(key: SigningKey | KeyObject, keyName: string): ReceiptSigner {
  const k = signingKeyFrom(keyName, 'privateKey' in key ? key.privateKey : key);
  const keyId = receiptKeyId(keyName, k.publicKey);
  return {
    keyId,
    vkey: k.vkey,
    sign(fields) {
      const payload: ReceiptPayload = { v: RECEIPT_VERSION, ...fields, key_id: keyId };
      return { payload, signature: toBase64(sign(null, receiptSigningBytes(payload), k.privateKey)) };
    },
  };
}
