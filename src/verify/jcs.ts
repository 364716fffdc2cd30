// RFC 8785 JSON Canonicalization Scheme. Hand-written because src/verify takes no npm dependencies; it
// is small because RFC 8785 defines its number and string forms as ECMAScript's own JSON.stringify
// output, so only key ordering and input checks are ours.
import { VerificationError } from './errors.js';

/** The canonical JSON text of `value`; throws NOT_CANONICALISABLE for anything I-JSON cannot carry. */
export function canonicalize(value: unknown): string {
  const out: string[] = [];
  write(value, out, 0);
  return out.join('');
}

const encoder = new TextEncoder();

/** The canonical JSON of `value` as UTF-8 bytes: the ledger's leaf data. */
export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalize(value));
}

function fail(msg: string): never {
  throw new VerificationError('NOT_CANONICALISABLE', msg);
}

function write(v: unknown, out: string[], depth: number): void {
  if (depth > 64) fail('nested too deeply');
  if (v === null) return void out.push('null');
  switch (typeof v) {
    case 'boolean':
      return void out.push(v ? 'true' : 'false');
    case 'number':
      if (!Number.isFinite(v)) fail('non-finite number');
      // ECMAScript Number-to-String is exactly RFC 8785 §3.2.2.3 (and prints -0 as 0).
      return void out.push(JSON.stringify(v));
    case 'string':
      return void out.push(quote(v));
    case 'object': {
      if (Array.isArray(v)) {
        out.push('[');
        v.forEach((item, i) => {
          if (i > 0) out.push(',');
          if (item === undefined) fail('undefined array element');
          write(item, out, depth + 1);
        });
        return void out.push(']');
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if (proto !== Object.prototype && proto !== null) fail('only plain objects can be canonicalised');
      // Default string sort compares UTF-16 code units, which is the order RFC 8785 §3.2.3 requires.
      const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined).sort();
      out.push('{');
      keys.forEach((k, i) => {
        if (i > 0) out.push(',');
        out.push(quote(k), ':');
        write((v as Record<string, unknown>)[k], out, depth + 1);
      });
      return void out.push('}');
    }
    default:
      fail(`cannot canonicalise a ${typeof v}`);
  }
}

function quote(s: string): string {
  // I-JSON (RFC 7493), which RFC 8785 requires, forbids unpaired surrogates. isWellFormed is the
  // engine's own check (ES2024), far faster than a scan in JS over a long prompt.
  if (!(s as string & { isWellFormed(): boolean }).isWellFormed()) fail('unpaired surrogate in string');
  return JSON.stringify(s);
}
