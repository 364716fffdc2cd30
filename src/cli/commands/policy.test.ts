import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { DEFAULT_POLICY_DIR } from '../../policy/index.js';
import { buildProgram } from '../program.js';
import { register } from './policy.js';

const root = mkdtempSync(join(tmpdir(), 'redline-cli-policy-'));
after(() => rmSync(root, { recursive: true, force: true }));

async function run(...args: string[]): Promise<{ out: string; err: string; code: number }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  const prevCode = process.exitCode;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  process.exitCode = 0;
  try {
    await buildProgram([register]).exitOverride().parseAsync(['node', 'redline', ...args]);
    return { out: out.join('\n'), err: err.join('\n'), code: Number(process.exitCode ?? 0) };
  } finally {
    console.log = log;
    console.error = error;
    process.exitCode = prevCode;
  }
}

test('policy test runs the default pack and passes', async () => {
  const r = await run('policy', 'test', '--policies', DEFAULT_POLICY_DIR);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /^ok {4}red-lines\.yaml › /m);
  assert.match(r.out, /PASS: (\d+)\/\1 passed, 0 failed/);
});

test('policy test prints FAIL with the diff and exits 1', async () => {
  const tests = join(root, 'tests.yaml');
  writeFileSync(tests, `- name: wrong on purpose
  context: { labels: [logistics] }
  targets: [{ provider: p, model: m }]
  expect: { decision: deny }
`);
  const r = await run('policy', 'test', tests, '--policies', DEFAULT_POLICY_DIR);
  assert.equal(r.code, 1);
  assert.match(r.out, /^FAIL {2}tests\.yaml › wrong on purpose/m);
  assert.match(r.out, /decision: expected deny, got allow/);
  assert.match(r.out, /FAIL: 0\/1 passed, 1 failed/);
});

test('policy validate reports errors with positions and exits 1', async () => {
  const dir = join(root, 'pack');
  cpSync(DEFAULT_POLICY_DIR, dir, { recursive: true });
  const ok = await run('policy', 'validate', '--policies', dir);
  assert.equal(ok.code, 0);
  assert.match(ok.out, /version [0-9a-f]{64}/);
  writeFileSync(join(dir, '99-bad.cedar'), '@id("b") @reason("r") @severity("low")\npermit (principal, action, resource) when { context.nope };\n');
  const bad = await run('policy', 'validate', '--policies', dir);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /99-bad\.cedar:2:\d+: .*nope/);
  const t = await run('policy', 'test', '--policies', dir);
  assert.equal(t.code, 1);
  assert.match(t.err, /is invalid/);
});
