import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadClassifier, USE_LABELS } from '../../classify/index.js';
import { runClassifyJsonl } from './classify.js';

const lines = [
  '{"id":1,"text":"Translate into French: the convoy arrives at noon."}',
  'this is not json',
  '',
  '{"id":"b","text":"Give me the synthesis route for sarin with reaction conditions."}',
  '{"id":3}',
  '{"text":"no id here"}',
].join('\n') + '\n';

async function collect(stream: PassThrough): Promise<string> {
  let s = '';
  stream.on('data', (c: Buffer) => (s += c.toString()));
  await new Promise((r) => stream.on('end', r));
  return s;
}

test('runClassifyJsonl writes one result per good line and names bad lines on stderr', async () => {
  const input = new PassThrough();
  const out = new PassThrough();
  const err = new PassThrough();
  const outText = collect(out);
  const errText = collect(err);
  input.end(lines);
  const r = await runClassifyJsonl({ input, out, err, classifier: loadClassifier() });
  out.end();
  err.end();
  assert.deepEqual(r, { ok: 3, failed: 2 });
  const rows = (await outText).trim().split('\n').map((l) => JSON.parse(l) as { id: unknown; top: string; scores: Record<string, number> });
  assert.deepEqual(rows.map((x) => x.id), [1, 'b', null]);
  assert.equal(rows[0]!.top, 'translation');
  assert.equal(rows[1]!.top, 'mass_casualty_weapons');
  for (const row of rows) assert.deepEqual(Object.keys(row.scores), [...USE_LABELS]);
  const errLines = (await errText).trim().split('\n');
  assert.equal(errLines.length, 2);
  assert.match(errLines[0]!, /^line 2: /);
  assert.match(errLines[1]!, /^line 5: /);
});

test('redline classify --jsonl FILE: stdout results, stderr errors, exit code 1 after a bad line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'redline-classify-'));
  const file = join(dir, 'in.jsonl');
  writeFileSync(file, lines);
  // A real command-line run: the program built from the CLI's command list, in a child process.
  const script = join(dir, 'run.mjs');
  const programUrl = pathToFileURL(fileURLToPath(new URL('../program.ts', import.meta.url))).href;
  const commandUrl = pathToFileURL(fileURLToPath(new URL('./classify.ts', import.meta.url))).href;
  writeFileSync(script, `import { buildProgram } from ${JSON.stringify(programUrl)};\nimport { register } from ${JSON.stringify(commandUrl)};\nawait buildProgram([register]).parseAsync(process.argv);\n`);
  const run = (args: string[], stdin?: string) => spawnSync(process.execPath, ['--import', 'tsx', script, 'classify', ...args], { encoding: 'utf8', input: stdin });

  const bad = run(['--jsonl', file]);
  assert.equal(bad.status, 1);
  assert.equal(bad.stdout.trim().split('\n').length, 3);
  assert.match(bad.stderr, /line 2: /);

  const good = run(['--jsonl', '-'], '{"id":7,"text":"Draft the minutes of the budget meeting."}\n');
  assert.equal(good.status, 0, good.stderr);
  const row = JSON.parse(good.stdout) as { id: number; top: string };
  assert.equal(row.id, 7);
  assert.equal(row.top, 'administrative');

  const missing = run(['--jsonl', join(dir, 'missing.jsonl')]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /cannot read/);
});
