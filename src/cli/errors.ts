// What the command line prints for an error that ends a command: one line a user can act on.
import { isRedlineError } from '../errors.js';

/**
 * RedlineError: its code, message and listed issues. A system error (ENOENT, EADDRINUSE, EACCES...)
 * or a plain Error: its message alone, since Node's system messages already start with their code.
 * Anything else (a TypeError, say) is a bug in redline: its stack, for the bug report.
 */
export function cliErrorText(e: unknown): string {
  if (isRedlineError(e)) {
    const issues = e.details?.issues as string[] | undefined;
    return `${e.code}: ${e.message}${issues ? '\n  - ' + issues.join('\n  - ') : ''}`;
  }
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return e.message.startsWith(code) ? e.message : `${code}: ${e.message}`;
    if (e.constructor === Error) return `error: ${e.message}`;
    return e.stack ?? `${e.name}: ${e.message}`;
  }
  return `error: ${String(e)}`;
}
