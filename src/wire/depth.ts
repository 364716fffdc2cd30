// The one nesting limit for free-form JSON in client requests (tool schemas, tool inputs), shared by
// both client formats so that each refuses the same bodies with a 400.
import { RedlineError } from '../errors.js';

/**
 * Deepest nesting accepted. Two things bound it. JSON.stringify recurses, so a body nested a hundred
 * thousand levels deep must fail here rather than overflow the stack later in the pipeline. And the
 * ledger commits to the request's content as canonical JSON of at most 64 levels (verify/jcs.ts), with
 * a tool's schema three levels down (tools, the tool, its schema): 48 leaves room for that wrapping.
 */
export const MAX_JSON_DEPTH = 48;

/** Throws INVALID_REQUEST naming `param` when `root` nests deeper than MAX_JSON_DEPTH. */
export function checkJsonDepth(root: unknown, param: string): void {
  // Iterative: measuring an adversarial depth must not overflow the stack either.
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d > MAX_JSON_DEPTH) {
      throw new RedlineError('INVALID_REQUEST', `${param}: nested more than ${MAX_JSON_DEPTH} levels deep`, { param });
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
}
