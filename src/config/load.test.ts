import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRedlineError } from '../errors.js';
import { loadConfig, parseConfigText } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'redline-config-'));
const file = (name: string, text: string) => { const p = join(dir, name); writeFileSync(p, text); return p; };
function issuesOf(fn: () => unknown): string[] {
  try { fn(); } catch (e) { if (isRedlineError(e) && e.code === 'CONFIG_INVALID') return (e.details?.issues as string[]) ?? [e.message]; throw e; }
  assert.fail('expected CONFIG_INVALID');
}

test('no config file: embedded defaults with the demo model, env overrides', () => {
  const c = loadConfig({ cwd: dir, env: { PORT: '9999', HOST: '0.0.0.0', REDLINE_DATA_DIR: join(dir, 'd') } });
  assert.equal(c.source, 'embedded defaults');
  assert.deepEqual(c.routes.map((r) => r.alias), ['demo']);
  assert.equal(c.server.port, 9999);
  assert.equal(c.server.host, '0.0.0.0');
  assert.equal(c.dataDir, join(dir, 'd'));
  assert.ok(Object.isFrozen(c.server), 'config is deep-frozen');
});

test('every problem is reported with its path', () => {
  const issues = issuesOf(() => parseConfigText(`
providers:
  - { name: a, kind: openai, apiKey: sk-secret }
  - { name: b, kind: warp }
  - { name: c, kind: openai_compatible }
routes:
  - { alias: x, targets: [{ provider: nope, model: m }] }
retry: { maxAttempts: 0 }
`, 'x.yaml'));
  const text = issues.join('\n');
  assert.match(text, /providers\[0\]: .*apiKey/);
  assert.match(text, /providers\[1\]\.kind/);
  assert.match(text, /providers\[2\]\.baseUrl: openai_compatible providers need a baseUrl/);
  assert.match(text, /routes\[0\]\.targets\[0\]\.provider: no provider named "nope"/);
  assert.match(text, /retry\.maxAttempts/);
});

test('bad YAML and bad JSON are named as such', () => {
  assert.match(issuesOf(() => parseConfigText('providers: [', 'c.yaml'))[0]!, /not valid YAML/);
  assert.match(issuesOf(() => parseConfigText('{"providers":', 'c.json'))[0]!, /not valid JSON/);
});

test('upstream keys come from the environment variable the config names', () => {
  const p = file('keys.yaml', 'providers:\n  - { name: a, kind: anthropic, apiKeyEnv: MY_KEY }\n  - { name: b, kind: openai, apiKeyEnv: MISSING_KEY }\nroutes:\n  - { alias: m, targets: [{ provider: a, model: x }] }\n');
  const c = loadConfig({ file: p, env: { MY_KEY: 'sk-from-env' } });
  assert.equal(c.providers[0]!.apiKey, 'sk-from-env');
  assert.equal(c.providers[1]!.apiKey, undefined);
  assert.match(c.warnings.join('\n'), /MISSING_KEY is not set/);
});

test('a short REDLINE_ADMIN_KEY or a bad PORT is refused', () => {
  issuesOf(() => loadConfig({ cwd: dir, env: { REDLINE_ADMIN_KEY: 'short' } }));
  issuesOf(() => loadConfig({ cwd: dir, env: { PORT: 'eighty' } }));
});

test('a file without providers and routes keeps the demo model; one that declares no route is refused', () => {
  for (const text of ['', 'server: { port: 9000 }\n']) {
    const c = parseConfigText(text, 'only-server.yaml');
    assert.deepEqual(c.routes.map((r) => r.alias), ['demo'], JSON.stringify(text));
  }
  assert.equal(parseConfigText('server: { port: 9000 }\n', 's.yaml').server.port, 9000);
  assert.match(issuesOf(() => parseConfigText('providers: [{ name: a, kind: demo }]\n', 'p.yaml')).join('\n'), /^routes: no route is declared/m);
  assert.match(issuesOf(() => parseConfigText('routes: []\n', 'r.yaml')).join('\n'), /^routes: no route is declared/m);
});
