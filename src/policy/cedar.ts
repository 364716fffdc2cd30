// The one import of the Cedar wasm build. The `nodejs` entry loads the wasm synchronously with fs at
// import time (the default entry expects a bundler), so the engine can be built and reloaded without
// awaiting anything.
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { DetailedError } from '@cedar-policy/cedar-wasm/nodejs';

export { cedar };
export type {
  AuthorizationAnswer,
  AuthorizationCall,
  DetailedError,
  EntityJson,
  PolicyJson,
  Schema,
  StatefulAuthorizationCall,
} from '@cedar-policy/cedar-wasm/nodejs';

/** 1-based line and column of a byte offset (Cedar reports spans in UTF-8 bytes). */
export function lineCol(text: string, byteOffset: number): { line: number; col: number } {
  const before = Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8');
  const lines = before.split('\n');
  return { line: lines.length, col: (lines[lines.length - 1] ?? '').length + 1 };
}

/** Cedar's message with its label and help, on one line. */
export function describeCedarError(e: DetailedError): string {
  const label = e.sourceLocations?.find((l) => l.label)?.label;
  let s = e.message;
  if (label) s += ` (${label})`;
  if (e.help) s += `; ${e.help}`;
  return s;
}

/** `file:line:col: message` when Cedar gave a span into `text`, else `file: message`. */
export function formatCedarError(file: string, text: string | undefined, e: DetailedError, offsetBase = 0): string {
  const loc = e.sourceLocations?.[0];
  if (text !== undefined && loc) {
    const { line, col } = lineCol(text, offsetBase + loc.start);
    return `${file}:${line}:${col}: ${describeCedarError(e)}`;
  }
  return `${file}: ${describeCedarError(e)}`;
}
