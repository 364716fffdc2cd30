// Checks both client formats make of a parsed request beyond its schema, shared so that each refuses
// the same requests with a 400: the nesting limit for free-form JSON (tool schemas, tool inputs), and
// a tool choice that names no offered tool.
import { RedlineError } from '../errors.js';
import type { ToolChoice, ToolDef } from './types.js';

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

/**
 * A tool choice must name an offered tool, and "required" needs one to choose from: the providers
 * answer 400 otherwise, and so does redline, before anything goes upstream. `param` is the wire
 * format's name for the field.
 */
export function checkToolChoice(choice: ToolChoice | undefined, tools: readonly ToolDef[] | undefined, param: string): void {
  if (!choice || choice.type === 'auto' || choice.type === 'none') return;
  const names = (tools ?? []).map((t) => t.name);
  if (choice.type === 'required' && names.length === 0) {
    throw new RedlineError('INVALID_REQUEST', `${param}: a tool must be chosen, but no tools were offered`, { param });
  }
  if (choice.type === 'tool' && !names.includes(choice.name)) {
    throw new RedlineError('INVALID_REQUEST', `${param}: names the tool "${choice.name}", which is not among the tools offered`, { param });
  }
}
