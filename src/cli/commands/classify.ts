// `redline classify --jsonl FILE`: runs the embedded use classifier over JSON lines
// {"id": ..., "text": ...} (FILE or "-" for stdin) and writes {"id", "top", "scores"} per line to
// stdout. A bad line is reported on stderr with its line number and skipped; the exit code is 1 at
// the end if any line failed. All classification is classify/'s; this maps lines to it.
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { Command } from 'commander';
import { loadClassifier, USE_LABELS, type UseClassifier } from '../../classify/index.js';

export interface ClassifyJsonlOptions {
  input: Readable;
  out: Writable;
  err: Writable;
  classifier: UseClassifier;
}

const round = (x: number): number => Math.round(x * 1e6) / 1e6;

async function write(stream: Writable, line: string): Promise<void> {
  if (!stream.write(line)) await once(stream, 'drain');
}

/** Classifies every line of `input`; returns how many lines succeeded and failed. */
export async function runClassifyJsonl(o: ClassifyJsonlOptions): Promise<{ ok: number; failed: number }> {
  const lines = createInterface({ input: o.input, crlfDelay: Infinity });
  let n = 0;
  let ok = 0;
  let failed = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      failed++;
      await write(o.err, `line ${n}: not valid JSON\n`);
      continue;
    }
    const r = row as { id?: unknown; text?: unknown } | null;
    if (r === null || typeof r !== 'object' || Array.isArray(r) || typeof r.text !== 'string') {
      failed++;
      await write(o.err, `line ${n}: expected an object with a string "text"\n`);
      continue;
    }
    const c = o.classifier.classifyText(r.text);
    const scores: Record<string, number> = {};
    for (const l of USE_LABELS) scores[l] = round(c.scores[l]);
    await write(o.out, JSON.stringify({ id: r.id ?? null, top: c.top, scores }) + '\n');
    ok++;
  }
  return { ok, failed };
}

export function register(program: Command): void {
  program
    .command('classify')
    .description('classify JSON lines {"id","text"} with the embedded use classifier')
    .requiredOption('--jsonl <file>', 'input file of JSON lines, or - for stdin')
    .option('--model <path>', 'model file (default: the shipped model)')
    .action(async (opts: { jsonl: string; model?: string }) => {
      const classifier = loadClassifier(opts.model);
      const input = opts.jsonl === '-' ? process.stdin : createReadStream(opts.jsonl);
      // A missing file surfaces as a stream error from the line reader; report it without a stack.
      const result = await runClassifyJsonl({ input, out: process.stdout, err: process.stderr, classifier }).catch((e: unknown) => {
        process.stderr.write(`cannot read ${opts.jsonl}: ${(e as NodeJS.ErrnoException).code ?? 'error'}\n`);
        return { ok: 0, failed: 1 };
      });
      if (result.failed > 0) process.exitCode = 1;
    });
}
