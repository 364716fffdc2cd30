// `redline ledger verify`: checks a redline ledger from the outside. The flags choose where tiles and
// bundles come from (a running gateway over HTTP, or the SQLite file read-only) and which keys to
// trust; every check is a call into redline/verify, and each prints one line.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import { Agent, request } from 'undici';
import { openLedgerReader } from '../../ledger/index.js';
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

interface Source {
  checkpoint(): Promise<string>;
  tile: TileFetcher;
  entryBundle: EntryBundleFetcher;
  /** Older signed checkpoints the log kept (SQLite only). */
  storedCheckpoints(): { size: number; note: string }[];
  /** Entries in the log right now, when the source can tell without trusting a checkpoint (SQLite only). */
  size?(): number;
  close(): Promise<void>;
}

/** The file name the gateway's store uses under its data directory (src/store/sqlite.ts). */
const DB_FILE = 'redline.db';

class CheckFailed extends Error {}

function httpSource(base: string): Source {
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

function sqliteSource(dir: string): Source {
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

function trustedKeys(o: VerifyOptions): VerifierKey[] {
  const lines = [...(o.key ?? [])];
  if (o.keyFile) lines.push(...readFileSync(o.keyFile, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
  if (lines.length === 0) throw new CheckFailed('give the log\'s verifier key with --key VKEY or --key-file FILE');
  return lines.map((l) => parseVerifierKey(l));
}

const keyLabel = (k: VerifierKey): string => `${k.name}+${toHex(k.keyId)}`;

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
}
