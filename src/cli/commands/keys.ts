import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../config/index.js';
import { RedlineError } from '../../errors.js';
import { DB_FILE, createSqliteStore, generateApiKey, hashApiKey, keyChangeEvent, keyDisplayPrefix, openDatabase, type Store } from '../../store/index.js';

/**
 * Runs `fn` on the store in $REDLINE_DATA_DIR. Only `create` may start a new database (keys can be
 * made before the gateway's first start), and it says so: a mistyped directory would otherwise take
 * the key into a database the gateway never reads. The other commands refuse a directory without one.
 */
async function withStore<T>(fn: (s: Store) => Promise<T>, o: { create?: boolean } = {}): Promise<T> {
  const config = loadConfig();
  const file = join(config.dataDir, DB_FILE);
  if (!existsSync(file)) {
    if (!o.create) {
      throw new RedlineError('NOT_FOUND', `no redline database at ${file}: set REDLINE_DATA_DIR to the gateway's data directory (it is created when the gateway first starts)`);
    }
    console.error(`note: no database at ${file}; a new one is created there (set REDLINE_DATA_DIR if the gateway uses another directory)`);
  }
  const store = createSqliteStore(openDatabase(config.dataDir));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** `--attr unit=3rd-bde --attr legal_authorities=FISA-702,EO-12333` → attributes; commas make a list. */
function parseAttrs(list: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of list) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new Error(`--attr expects key=value, got "${a}"`);
    const k = a.slice(0, eq);
    const v = a.slice(eq + 1);
    out[k] = v.includes(',') ? v.split(',').map((s) => s.trim()).filter(Boolean) : v;
  }
  return out;
}

const collect = (v: string, prev: string[]) => [...prev, v];

export function register(program: Command): void {
  const keys = program.command('keys').description('API keys and the principals they belong to (uses $REDLINE_DATA_DIR)');
  keys
    .command('create')
    .description('create an API key for a principal (created if new); prints the key once')
    .requiredOption('-p, --principal <name>', 'principal name')
    .option('-r, --role <role>', 'role of a new principal (repeatable)', collect, [])
    .option('-a, --attr <key=value>', 'attribute of a new principal, e.g. unit=J2 (repeatable; commas make a list)', collect, [])
    .option('-l, --label <text>', 'what the key is for', '')
    .option('--json', 'print JSON')
    .action(async (o: { principal: string; role: string[]; attr: string[]; label: string; json?: boolean }) => {
      await withStore(async (s) => {
        let p = await s.keys.getPrincipalByName(o.principal);
        if (!p) p = await s.keys.createPrincipal({ name: o.principal, roles: o.role, attributes: parseAttrs(o.attr) });
        else if (o.role.length || o.attr.length) console.error(`note: principal ${p.name} exists; --role/--attr ignored`);
        const key = generateApiKey();
        const info = await s.keys.addKey({ principalId: p.id, label: o.label, hash: hashApiKey(key), prefix: keyDisplayPrefix(key) });
        await s.audit.add(keyChangeEvent('key_created', info.id, p.id));
        if (o.json) console.log(JSON.stringify({ key, id: info.id, principal: p }));
        else console.log(`${key}\n(key id ${info.id}, principal ${p.name}, roles ${p.roles.join(',') || 'none'}; shown only once)`);
      }, { create: true });
    });
  keys
    .command('list')
    .description('list keys (never the keys themselves)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      await withStore(async (s) => {
        const list = await s.keys.listKeys();
        if (o.json) return console.log(JSON.stringify(list));
        for (const k of list) console.log(`${k.id}  ${k.prefix}…  ${k.principalName.padEnd(16)}  ${k.revokedAt ? `revoked ${k.revokedAt}` : 'active'}  ${k.label}`);
      });
    });
  keys
    .command('revoke <idOrPrefix>')
    .description('revoke a key by id or display prefix')
    .action(async (idOrPrefix: string) => {
      await withStore(async (s) => {
        const k = await s.keys.revokeKey(idOrPrefix);
        if (!k) {
          console.error(`no single key matches "${idOrPrefix}"`);
          process.exitCode = 1;
          return;
        }
        await s.audit.add(keyChangeEvent('key_revoked', k.id, k.principalId));
        console.log(`revoked ${k.id} (${k.principalName})`);
      });
    });
}
