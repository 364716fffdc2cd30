// `redline ledger verify`: checks a redline ledger from the outside. The flags choose where tiles and
// bundles come from (a running gateway over HTTP, or the SQLite file read-only) and which keys to
// trust; every check is a call into redline/verify, and each prints one line.
// `redline ledger rotate-key` and `redline ledger disclose` are the operator's side: they need the data
// directory with its key and server secret, which no verifier ever has.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import { Agent, request } from 'undici';
import { KEY_FILE, VERIFIERS_FILE, openLedgerReader, readVerifierKeys, rotateSigningKey, signingKeyFrom } from '../../ledger/index.js';
import { contentOf, contentSalt, type Call } from '../../gateway/index.js';
import { DB_FILE, createSqliteStore, loadOrCreateSecret, openDatabase } from '../../store/index.js';
import type { ChatRequest } from '../../wire/index.js';
import {
  entriesPath,
  isVerificationError,
  parseVerifierKey,
  tilePath,
  toBase64,
  toHex,
  verifyAllEntries,
  verifyCheckpoint,
  verifyCheckpointConsistency,
  verifyDisclosedEntry,
  verifyEntryInclusion,
  verifyDisclosure,
  bytesEqual,
  type EntryBundleFetcher,
  type TileFetcher,
  type VerifiedCheckpoint,
  type VerifierKey,
} from '../../verify/index.js';

export interface VerifyOptions {
  url?: string;
  dir?: string;
  key?: string[];
  keyFile?: string;
  origin?: string;
  checkpoint?: string;
  oldCheckpoint?: string;
  index?: string;
  disclosure?: string;
  saveCheckpoint?: string;
}

export interface Source {
  checkpoint(): Promise<string>;
  tile: TileFetcher;
  entryBundle: EntryBundleFetcher;
  /** Older signed checkpoints the log kept (SQLite only). */
  storedCheckpoints(): { size: number; note: string }[];
  /** Entries in the log right now, when the source can tell without trusting a checkpoint (SQLite only). */
  size?(): number;
  close(): Promise<void>;
}

export class CheckFailed extends Error {}

export function httpSource(base: string): Source {
  // Accept the gateway's base URL or the tlog prefix itself (…/ledger).
  const prefix = base.replace(/\/+$/, '').replace(/\/ledger$/, '') + '/ledger/';
  const agent = new Agent({ connections: 16, keepAliveTimeout: 10_000 });
  const get = async (path: string): Promise<Uint8Array> => {
    const res = await request(prefix + path, { dispatcher: agent, headers: { 'accept-encoding': 'identity' } });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`GET ${prefix + path} answered ${res.statusCode}`);
    }
    return new Uint8Array(await res.body.arrayBuffer());
  };
  return {
    checkpoint: async () => new TextDecoder().decode(await get('checkpoint')),
    tile: (level, index, width) => get(tilePath(level, index, width)),
    entryBundle: (index, width) => get(entriesPath(index, width)),
    storedCheckpoints: () => [],
    close: () => agent.close(),
  };
}

export function sqliteSource(dir: string): Source {
  const file = existsSync(dir) && statSync(dir).isFile() ? dir : join(dir, DB_FILE);
  if (!existsSync(file)) throw new CheckFailed(`no database at ${file}`);
  const db = new Database(file, { readonly: true, fileMustExist: true });
  const reader = openLedgerReader(db);
  const need = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new Error(`${what} is not in the database`);
    return v;
  };
  return {
    async checkpoint() {
      const note = reader.latestCheckpoint();
      if (!note) throw new CheckFailed('the database holds no signed checkpoint yet (the gateway signs one when asked for it and on shutdown); pass --checkpoint FILE');
      return note;
    },
    tile: async (level, index, width) => need(reader.tile(level, index, width), tilePath(level, index, width)),
    entryBundle: async (index, width) => need(reader.entryBundle(index, width), entriesPath(index, width)),
    storedCheckpoints: () => reader.storedCheckpoints(Number.MAX_SAFE_INTEGER),
    size: () => reader.size(),
    close: async () => void db.close(),
  };
}

export function trustedKeys(o: Pick<VerifyOptions, 'key' | 'keyFile'>): VerifierKey[] {
  const lines = [...(o.key ?? [])];
  if (o.keyFile) lines.push(...readFileSync(o.keyFile, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
  if (lines.length === 0) throw new CheckFailed('give the log\'s verifier key with --key VKEY or --key-file FILE');
  return lines.map((l) => parseVerifierKey(l));
}

export const keyLabel = (k: VerifierKey): string => `${k.name}+${toHex(k.keyId)}`;

/** Runs the checks the options ask for; prints one line per passed check. Returns the exit code. */
export async function runLedgerVerify(o: VerifyOptions, out: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  let check = 'setup';
  let source: Source | undefined;
  try {
    if (!!o.url === !!o.dir) throw new CheckFailed('give exactly one of --url URL or --dir DATA_DIR');
    const keys = trustedKeys(o);
    source = o.url ? httpSource(o.url) : sqliteSource(o.dir!);
    const originOpt = o.origin === undefined ? {} : { origin: o.origin };

    check = 'checkpoint';
    const note = o.checkpoint ? readFileSync(o.checkpoint, 'utf8') : await source.checkpoint();
    const cp: VerifiedCheckpoint = verifyCheckpoint(note, keys, originOpt);
    out(`checkpoint: ${cp.origin} size ${cp.size} root ${toBase64(cp.rootHash)} signed by ${cp.verifiedBy.map(keyLabel).join(', ')}`);
    const uncovered = (source.size?.() ?? cp.size) - cp.size;
    if (uncovered > 0) out(`note: ${uncovered} later entries are not covered by a stored signed checkpoint yet; verify with --url for the live checkpoint`);

    let old: VerifiedCheckpoint | undefined;
    if (o.oldCheckpoint) {
      check = 'old checkpoint';
      old = verifyCheckpoint(readFileSync(o.oldCheckpoint, 'utf8'), keys, { origin: cp.origin });
    }

    check = 'entries';
    const stored = source.storedCheckpoints().filter((c) => c.size <= cp.size);
    const started = performance.now();
    const rebuilt = await verifyAllEntries(cp, source.entryBundle, {
      concurrency: o.url ? 16 : 1,
      rootsAt: [...stored.map((c) => c.size), ...(old ? [old.size] : [])],
    });
    out(`entries: rebuilt the tree from ${rebuilt.size} entries; its root matches the checkpoint (${((performance.now() - started) / 1000).toFixed(2)} s)`);

    if (stored.length > 0) {
      check = 'stored checkpoints';
      let matched = 0;
      let skipped = 0;
      for (const s of stored) {
        let c: VerifiedCheckpoint;
        try {
          c = verifyCheckpoint(s.note, keys, { origin: cp.origin });
        } catch (e) {
          // Checkpoints signed by keys the caller did not pass (e.g. before a rotation) cannot be judged.
          if (isVerificationError(e) && e.code === 'UNKNOWN_KEY') {
            skipped++;
            continue;
          }
          throw e;
        }
        const root = rebuilt.roots.get(c.size);
        if (!root || !bytesEqual(root, c.rootHash)) throw new CheckFailed(`ROOT_MISMATCH: the log signed a checkpoint for size ${c.size} that its entries contradict`);
        matched++;
      }
      out(`stored checkpoints: ${matched} signed checkpoints agree with the entries${skipped ? ` (${skipped} signed by keys not given were skipped)` : ''}`);
    }

    if (old) {
      check = 'consistency';
      await verifyCheckpointConsistency(old, cp, source.tile);
      const prefixRoot = rebuilt.roots.get(old.size);
      if (prefixRoot && !bytesEqual(prefixRoot, old.rootHash)) throw new CheckFailed('INCONSISTENT: the old checkpoint is not a prefix of the current entries');
      out(`consistency: old checkpoint (size ${old.size}) is a prefix of the current tree (size ${cp.size})`);
    }

    if (o.index !== undefined) {
      check = 'inclusion';
      if (!/^(0|[1-9][0-9]*)$/.test(o.index)) throw new CheckFailed('--index must be a non-negative integer');
      const index = Number(o.index);
      await verifyEntryInclusion(cp, index, { tile: source.tile, entryBundle: source.entryBundle });
      out(`inclusion: entry ${index} is in the tree of size ${cp.size} (proof built from tiles)`);
    }

    if (o.disclosure) {
      check = 'disclosure';
      const d = JSON.parse(readFileSync(o.disclosure, 'utf8')) as { index?: unknown; salt?: unknown; content?: unknown };
      if (typeof d.index !== 'number' || typeof d.salt !== 'string' || typeof d.content !== 'string') {
        throw new CheckFailed('the disclosure file must be JSON {"index": number, "salt": hex string, "content": string}');
      }
      await verifyDisclosedEntry(cp, { index: d.index, salt: d.salt, content: d.content }, { tile: source.tile, entryBundle: source.entryBundle });
      out(`disclosure: entry ${d.index} is in the tree and its commitment matches the disclosed content`);
    }

    if (o.saveCheckpoint) writeFileSync(o.saveCheckpoint, cp.note);
    return 0;
  } catch (e) {
    const reason = isVerificationError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);
    err(`FAIL ${check}: ${reason}`);
    return 1;
  } finally {
    await source?.close();
  }
}

// ---- operator commands ---------------------------------------------------------------------------------

/** Where the gateway keeps the ledger's signing key and verifiers file under its data directory (src/main.ts). */
const keyDirOf = (dataDir: string): string => join(dataDir, 'ledger');

export interface RotateKeyOptions {
  dir?: string;
  origin?: string;
}

/**
 * The log's origin, read from the verifiers file: the vkey whose public key is the current private
 * key's names it. A key name cannot contain '+', so the name is what precedes the first one.
 */
function originOfCurrentKey(keyDir: string, pem: string): string | undefined {
  for (const vkey of readVerifierKeys(keyDir)) {
    const name = vkey.slice(0, vkey.indexOf('+'));
    try {
      if (signingKeyFrom(name, pem).vkey === vkey) return name;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** Replaces the checkpoint signing key; prints the new vkey. Returns the exit code. */
export async function runRotateKey(o: RotateKeyOptions, out: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  try {
    if (!o.dir) throw new CheckFailed('give the gateway\'s data directory with --dir DATA_DIR');
    const keyDir = keyDirOf(o.dir);
    const keyFile = join(keyDir, KEY_FILE);
    if (!existsSync(keyFile)) throw new CheckFailed(`no ledger signing key at ${keyFile}; the gateway creates one when it first starts`);
    const recorded = originOfCurrentKey(keyDir, readFileSync(keyFile, 'utf8'));
    if (recorded !== undefined && o.origin !== undefined && o.origin !== recorded) {
      throw new CheckFailed(`the current key signs for origin ${recorded}, not ${o.origin}; the origin is fixed for the life of a log`);
    }
    const origin = o.origin ?? recorded;
    if (origin === undefined) throw new CheckFailed(`the current key is not in ${join(keyDir, VERIFIERS_FILE)}, so its origin is unknown; pass --origin (ledger.origin in the configuration)`);
    const { key, previous } = rotateSigningKey(keyDir, origin);
    // The rotation enters the ledger itself: the gateway moves the store's outbox into it when it starts.
    if (existsSync(join(o.dir, DB_FILE))) {
      const store = createSqliteStore(openDatabase(o.dir));
      try {
        await store.audit.add({
          decisionId: `lkr_${toHex(key.keyId)}`, action: 'key_change', decision: 'key_change', change: 'ledger_key_rotated',
          principal: 'cli', labels: [], vkey: key.vkey, ...(previous !== undefined && { previous }), time: new Date().toISOString(),
        });
      } finally {
        await store.close();
      }
    }
    out(key.vkey);
    err(`the previous key stays in ${join(keyDir, VERIFIERS_FILE)}, so checkpoints it signed still verify; hand that file to verifiers again.`);
    err('start the gateway to sign with the new key.');
    return 0;
  } catch (e) {
    err(`FAIL rotate-key: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

export interface DiscloseOptions {
  dir?: string;
  index?: string;
  out?: string;
}

/** The store's default secret file (src/store/secrets.ts). */
const SECRET_FILE = 'server.secret';

/**
 * Prints the disclosure {index, salt, content} of a request decision whose content the gateway kept
 * (server.storeContent, or a policy's log_content obligation), after checking that it opens the
 * entry's commitment. Returns the exit code.
 */
export async function runDisclose(o: DiscloseOptions, out: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  let db: Database.Database | undefined;
  try {
    if (!o.dir) throw new CheckFailed('give the gateway\'s data directory with --dir DATA_DIR');
    if (o.index === undefined || !/^(0|[1-9][0-9]*)$/.test(o.index)) throw new CheckFailed('--index must be a non-negative integer');
    const index = Number(o.index);
    const file = join(o.dir, DB_FILE);
    if (!existsSync(file)) throw new CheckFailed(`no database at ${file}`);
    db = new Database(file, { readonly: true, fileMustExist: true });
    const reader = openLedgerReader(db);
    const rec = reader.entry(index);
    if (!rec) throw new CheckFailed(`the log has ${reader.size()} entries; there is no entry ${index}`);
    const e = rec.entry;
    if (e.action === 'tool_call' || typeof e.requestId !== 'string' || typeof e.commitment !== 'string') {
      throw new CheckFailed(`entry ${index} is not the decision on a request (action ${e.action}); only request content can be disclosed`);
    }
    if (!existsSync(join(o.dir, SECRET_FILE))) throw new CheckFailed(`no server secret at ${join(o.dir, SECRET_FILE)}; the salt cannot be derived without it`);
    const secret = loadOrCreateSecret(o.dir, SECRET_FILE);
    // The store has no lookup by request id (it serves the gateway, which only writes records), so the
    // one column needed is read here, read-only.
    let row: { content: string | null } | undefined;
    try {
      row = db.prepare<[string], { content: string | null }>('SELECT content FROM requests WHERE id = ?').get(e.requestId);
    } catch {
      throw new CheckFailed('this database holds no request records');
    }
    if (!row) throw new CheckFailed(`no request record ${e.requestId} for entry ${index} (records are written a moment after the request ends)`);
    if (row.content === null) {
      throw new CheckFailed(`the content of entry ${index} was not stored (server.storeContent is off and no policy asked for log_content), so it cannot be disclosed`);
    }
    const stored = JSON.parse(row.content) as { request?: ChatRequest };
    if (!stored.request) throw new CheckFailed(`the stored record of ${e.requestId} holds no request`);
    // contentOf reads only the request of a call.
    const content = new TextDecoder().decode(contentOf({ req: stored.request } as Call));
    const salt = contentSalt(secret, e.decisionId);
    try {
      verifyDisclosure(rec.data, salt, content);
    } catch (x) {
      if (isVerificationError(x)) throw new CheckFailed(`the stored content does not open entry ${index}'s commitment (${x.code}); was the server secret replaced?`);
      throw x;
    }
    const doc = JSON.stringify({ index, salt: toHex(salt), content }, null, 2);
    if (o.out) writeFileSync(o.out, doc + '\n', { mode: 0o600 });
    else out(doc);
    return 0;
  } catch (e) {
    err(`FAIL disclose: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    db?.close();
  }
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function register(program: Command): void {
  const ledger = program.command('ledger').description('the transparency ledger');
  ledger
    .command('verify')
    .description('verify a ledger: signed checkpoint, every entry against it, and optionally consistency, inclusion and a disclosure')
    .option('--url <url>', 'a running redline (its base URL); tiles, bundles and checkpoint are fetched over HTTP')
    .option('--dir <dataDir>', `a data directory (or SQLite file) read directly and read-only (${DB_FILE})`)
    .option('--key <vkey>', 'trusted verifier key (repeatable)', collect, [])
    .option('--key-file <file>', 'file of trusted verifier keys, one per line (e.g. the log\'s verifiers file, obtained out of band)')
    .option('--origin <origin>', 'require this checkpoint origin')
    .option('--checkpoint <file>', 'verify against this signed checkpoint instead of the latest one')
    .option('--old-checkpoint <file>', 'a checkpoint saved earlier: check the log still extends it')
    .option('--index <n>', 'check that entry n is included (proof built from tiles)')
    .option('--disclosure <file>', 'JSON {index, salt, content}: check the content against the entry\'s commitment')
    .option('--save-checkpoint <file>', 'write the verified checkpoint here (for the next --old-checkpoint)')
    .action(async (o: VerifyOptions) => {
      const code = await runLedgerVerify(o);
      if (code !== 0) process.exitCode = code;
    });
  ledger
    .command('rotate-key')
    .description(`replace the checkpoint signing key; the old public key stays in ledger/${VERIFIERS_FILE} so old checkpoints still verify. Stop the gateway first: a running gateway keeps signing with the key it loaded`)
    .requiredOption('--dir <dataDir>', 'the gateway\'s data directory')
    .option('--origin <origin>', 'the log\'s origin (ledger.origin), when the verifiers file does not name the current key')
    .action(async (o: RotateKeyOptions) => {
      const code = await runRotateKey(o);
      if (code !== 0) process.exitCode = code;
    });
  ledger
    .command('disclose')
    .description('print the disclosure {index, salt, content} of a request decision whose content was stored, for `ledger verify --disclosure`')
    .requiredOption('--dir <dataDir>', 'the gateway\'s data directory (database and server secret)')
    .requiredOption('--index <n>', 'the ledger entry of the request decision')
    .option('--out <file>', 'write the disclosure here (mode 0600) instead of printing it')
    .action(async (o: DiscloseOptions) => {
      const code = await runDisclose(o);
      if (code !== 0) process.exitCode = code;
    });
}
