// `redline serve` as a real process: it comes up on the embedded defaults, answers the demo model,
// reloads its policy set on SIGHUP (recorded in the ledger) and shuts down cleanly on SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); });
});

test('serve: embedded defaults, SIGHUP reloads policy into the ledger, SIGTERM exits 0', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'redline-serve-'));
  const port = await freePort();
  const key = 'rl-serve-test-key-0123456789';
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'serve'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', REDLINE_DATA_DIR: dataDir, REDLINE_ADMIN_KEY: key, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    let up = false;
    for (let i = 0; i < 150 && !up; i++) {
      up = await fetch(url + '/healthz').then((r) => r.ok, () => false);
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(up, 'the gateway came up');
    const chat = await fetch(url + '/v1/chat/completions', { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'demo', messages: [{ role: 'user', content: 'hello' }] }) });
    assert.equal(chat.status, 200);
    child.kill('SIGHUP');
    let reloaded = false;
    for (let i = 0; i < 50 && !reloaded; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const size = Number((await (await fetch(url + '/ledger/checkpoint')).text()).split('\n')[1]);
      for (let j = 0; j < size && !reloaded; j++) {
        const e = await (await fetch(`${url}/v1/redline/ledger/entries/${j}`)).json() as any;
        reloaded = (e.entry ?? e).action === 'policy_reload';
      }
    }
    assert.ok(reloaded, 'a policy_reload entry was appended after SIGHUP');
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});
