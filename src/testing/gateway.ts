// Starts a real gateway (real SQLite file in a temp dir, real HTTP on 127.0.0.1:0) for tests.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../config/index.js';
import { startGateway, type Gateway } from '../main.js';
import { generateApiKey, hashApiKey, keyDisplayPrefix } from '../store/index.js';

export const TEST_ADMIN_KEY = 'rl-test-admin-key-0123456789abcdef';

export interface TestGateway extends Gateway {
  dataDir: string;
  key: string;
  /** fetch against the gateway with the admin key. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  /**
   * An API key for the principal named `name`, created with `roles` when it does not exist yet (on a
   * restarted data dir the existing principal gets another key).
   */
  keyFor(name: string, roles?: string[]): Promise<string>;
  /** Closes the gateway and deletes its data dir; `close()` alone keeps the dir for a restart. */
  stop(): Promise<void>;
}

export interface TestGatewayOptions {
  /**
   * Start on an existing data dir (a restart): the store, secret, ledger and bulk sketches of a
   * gateway stopped with `close()` carry over. Default: a fresh temp dir.
   */
  dataDir?: string;
}

export async function startTestGateway(configObj: Record<string, unknown> = {}, env: Record<string, string> = {}, o: TestGatewayOptions = {}): Promise<TestGateway> {
  const dataDir = o.dataDir ?? mkdtempSync(join(tmpdir(), 'redline-test-'));
  const file = join(dataDir, 'redline.json');
  const withDemo = {
    providers: [{ name: 'demo', kind: 'demo' }],
    routes: [{ alias: 'demo', targets: [{ provider: 'demo', model: 'demo' }] }],
    ...configObj,
  };
  writeFileSync(file, JSON.stringify(withDemo));
  const config = loadConfig({ file, env: { REDLINE_DATA_DIR: dataDir, REDLINE_ADMIN_KEY: TEST_ADMIN_KEY, PORT: '0', LOG_LEVEL: 'silent', ...env } });
  const gw = await startGateway(config);
  return {
    ...gw,
    dataDir,
    key: TEST_ADMIN_KEY,
    post: (path, body, headers = {}) => fetch(gw.url + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
    async keyFor(name, roles = []) {
      const p = (await gw.store.keys.getPrincipalByName(name)) ?? (await gw.store.keys.createPrincipal({ name, roles }));
      const key = generateApiKey();
      await gw.store.keys.addKey({ principalId: p.id, label: 'test', hash: hashApiKey(key), prefix: keyDisplayPrefix(key) });
      return key;
    },
    async stop() {
      await gw.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
