// `redline receipt verify`: checks an approval receipt the way a tool executor would, offline, with
// the receipt public key only. All checking is redline/verify's verifyReceipt; this maps flags to it.
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { isVerificationError, verifyReceipt, type ReceiptKey } from '../../verify/index.js';
import type { CommandResult } from './approvals.js';

export interface ReceiptVerifyOptions {
  /** Path of a receipt, or of an approval as GET /v1/redline/approvals/:id returns it. */
  receipt: string;
  tool: string;
  /** A file holding the arguments, or the JSON text itself. */
  args: string;
  /** A PEM key file, or a file of vkeys one per line (such as a ledger `verifiers` file). */
  key: string;
  /** RFC 3339 time to verify at instead of now. */
  now?: string;
  json?: boolean;
}

const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

function readKeys(path: string): ReceiptKey | ReceiptKey[] {
  const text = readFileSync(path, 'utf8');
  if (text.includes('-----BEGIN')) return text;
  return text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0 && !l.startsWith('#'));
}

/** The receipt itself, or the `receipt` field of an approval document; anything unparsable goes to the verifier as text. */
function readReceipt(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  try {
    const doc = JSON.parse(text) as Record<string, unknown> | null;
    if (doc && typeof doc === 'object' && !('payload' in doc) && 'receipt' in doc) return doc.receipt;
    return doc;
  } catch {
    return text;
  }
}

export function runReceiptVerify(o: ReceiptVerifyOptions): CommandResult {
  for (const [flag, path] of [['--receipt', o.receipt], ['--key', o.key]] as const) {
    if (!isFile(path)) return { ok: false, lines: [`${flag}: no such file: ${path}`] };
  }
  const now = o.now === undefined ? undefined : new Date(o.now);
  if (now && !Number.isFinite(now.getTime())) return { ok: false, lines: ['--now: not a date'] };
  // Arguments keep their exact bytes: for a raw_text receipt even a trailing newline matters.
  const args = isFile(o.args) ? readFileSync(o.args, 'utf8') : o.args;
  try {
    const v = verifyReceipt(readReceipt(o.receipt), { publicKey: readKeys(o.key), tool: o.tool, arguments: args, ...(now && { now }) });
    const p = v.payload;
    if (o.json) return { ok: true, lines: [JSON.stringify({ valid: true, key_id: v.keyId, payload: p })] };
    return {
      ok: true,
      lines: [
        `valid: approval ${p.approval_id} for ${p.tool} (effect ${p.effect}, call ${p.tool_call_id}), ` +
          `approved by ${p.approvers.map((a) => a.name).join(', ')}; requested by ${p.requester.name}; ` +
          `ledger index ${p.ledger_index}; signed by ${v.keyId}; expires ${p.expires_at}`,
      ],
    };
  } catch (e) {
    if (!isVerificationError(e)) throw e;
    if (o.json) return { ok: false, lines: [JSON.stringify({ valid: false, code: e.code, reason: e.message })] };
    return { ok: false, lines: [`invalid: ${e.code}: ${e.message}`] };
  }
}

export function register(program: Command): void {
  const receipt = program.command('receipt').description('approval receipts');
  receipt
    .command('verify')
    .description('verify an approval receipt for the tool call about to run (exit 1 when it does not verify)')
    .requiredOption('--receipt <file>', 'the receipt JSON, or an approval as the approvals API returns it')
    .requiredOption('--tool <name>', 'the tool about to be executed')
    .requiredOption('--args <file-or-json>', 'the arguments about to be used: a file, or the JSON text itself')
    .requiredOption('--key <file>', 'trusted receipt key: PEM file, or vkeys one per line')
    .option('--now <time>', 'verify as of this RFC 3339 time')
    .option('--json', 'print JSON')
    .action((o: ReceiptVerifyOptions) => {
      const r = runReceiptVerify(o);
      for (const l of r.lines) (r.ok ? console.log : console.error)(l);
      if (!r.ok) process.exitCode = 1;
    });
}
