// The keys and config commands as a user runs them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dataDir = mkdtempSync(join(tmpdir(), 'redline-keys-'));
const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...args], { env: { ...process.env, REDLINE_DATA_DIR: dataDir, REDLINE_CONFIG: '' }, encoding: 'utf8' });

test('keys create, list, revoke', () => {
  const c = cli('keys', 'create', '--principal', 'ops-1', '--role', 'commander', '--attr', 'unit=2-BCT', '--attr', 'legal_authorities=T10,EO-12333', '--json');
  assert.equal(c.status, 0, c.stderr);
  const created = JSON.parse(c.stdout);
  assert.match(created.key, /^rl-/);
  assert.deepEqual(created.principal.attributes, { unit: '2-BCT', legal_authorities: ['T10', 'EO-12333'] });
  const list = cli('keys', 'list', '--json');
  const keys = JSON.parse(list.stdout);
  assert.equal(keys.length, 1);
  assert.ok(!list.stdout.includes(created.key), 'list never shows the key');
  assert.equal(cli('keys', 'revoke', created.id).status, 0);
  assert.match(JSON.parse(cli('keys', 'list', '--json').stdout)[0].revokedAt, /^\d{4}-/);
  assert.equal(cli('keys', 'revoke', 'key_nope').status, 1);
});

test('config check explains each problem with its path and exits 1; a good file passes', () => {
  const bad = join(dataDir, 'bad.yaml');
  writeFileSync(bad, 'providers:\n  - { name: a, kind: openai, apiKey: sk-no }\nroutes:\n  - { alias: x, targets: [{ provider: zz, model: m }] }\n');
  const r = cli('config', 'check', bad);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /providers\[0\]/);
  assert.match(r.stderr, /routes\[0\]\.targets\[0\]\.provider/);
  const good = join(dataDir, 'good.yaml');
  writeFileSync(good, 'providers:\n  - { name: demo, kind: demo }\nroutes:\n  - { alias: demo, targets: [{ provider: demo, model: demo }] }\n');
  const ok = cli('config', 'check', good);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /ok \(1 providers, 1 routes\)/);
});

test('keys list and revoke refuse a data directory without a database, and create says it starts one', () => {
  const empty = mkdtempSync(join(tmpdir(), 'redline-keys-typo-'));
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', ...args], { env: { ...process.env, REDLINE_DATA_DIR: empty, REDLINE_CONFIG: '' }, encoding: 'utf8' });
  for (const args of [['keys', 'list'], ['keys', 'revoke', 'key_x']]) {
    const r = run(...args);
    assert.equal(r.status, 1, args.join(' '));
    assert.match(r.stderr, /no redline database at .*redline\.db/);
    assert.equal(existsSync(join(empty, 'redline.db')), false, `${args.join(' ')} created no database`);
  }
  const c = run('keys', 'create', '--principal', 'first', '--json');
  assert.equal(c.status, 0, c.stderr);
  assert.match(c.stderr, /a new one is created there/);
  assert.equal(existsSync(join(empty, 'redline.db')), true);
  assert.doesNotMatch(run('keys', 'create', '--principal', 'second').stderr, /new one/, 'said only when the database is new');
});

test('command errors are one line, without a stack trace', () => {
  for (const args of [['config', 'check', join(dataDir, 'missing.yaml')], ['keys', 'create', '--principal', 'p-attr', '--attr', 'badattr']]) {
    const r = cli(...args);
    assert.equal(r.status, 1, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').filter((l) => !l.startsWith('note:')).length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /\n\s+at /, r.stderr);
  }
});
