import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import {
  ReportError,
  UsageScanner,
  VerificationError,
  buildUsageReport,
  canonicalBytes,
  ed25519KeyId,
  encodeEntryBundle,
  formatCheckpoint,
  formatVerifierKey,
  leafHash,
  normaliseReportTime,
  parseRfc3339,
  perfectRoot,
  rootFromLeaves,
  signatureLine,
  verifyCheckpoint,
  verifyUsageReport,
  type ReportErrorCode,
  type UsageReport,
  type VerificationErrorCode,
} from './index.js';

const ORIGIN = 'report.test/log';

function keyPair(): { privateKey: KeyObject; vkey: string; keyId: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pub = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
  return { privateKey, vkey: formatVerifierKey(ORIGIN, pub), keyId: ed25519KeyId(ORIGIN, pub) };
}

const KEY = keyPair();

/** An in-memory log serving tlog-tiles resources for any size up to its current one. */
class MemoryLog {
  readonly data: Uint8Array[] = [];
  readonly leaves: Uint8Array[] = [];

  append(...entries: object[]): void {
    for (const e of entries) {
      const b = canonicalBytes({ v: 1, ...e });
      this.data.push(b);
      this.leaves.push(leafHash(b));
    }
  }

  checkpoint(size = this.data.length, key = KEY): string {
    const text = formatCheckpoint({ origin: ORIGIN, size, rootHash: rootFromLeaves(this.leaves.slice(0, size)) });
    return `${text}\n${signatureLine(ORIGIN, key.keyId, new Uint8Array(sign(null, Buffer.from(text), key.privateKey)))}`;
  }

  readonly source = {
    entryBundle: async (n: number, width: number | undefined) => encodeEntryBundle(this.data.slice(n * 256, n * 256 + (width ?? 256))),
    tile: async (level: number, index: number, width: number | undefined) => {
      const span = 256 ** level;
      const out: Uint8Array[] = [];
      for (let k = index * 256; k < index * 256 + (width ?? 256); k++) out.push(perfectRoot(this.leaves.slice(k * span, (k + 1) * span)));
      return new Uint8Array(Buffer.concat(out));
    },
  };
}

const T = (day: number, hh = 12) => `2025-03-${String(day).padStart(2, '0')}T${String(hh).padStart(2, '0')}:00:00Z`;
const req = (i: string, provider: string, time: string, decision: string, labels: string[], model = 'm1') => ({
  time, decisionId: `dec_${i}`, principal: 'p', action: 'chat', labels, decision, provider, model, route: 'r', requestId: `req_${i}`,
});

/**
 * The fixture log. Provider "oa" in March 2..10: four requests (general allow ×2, surveillance deny,
 * targeting hold with two labels), a policy denial of a tool call, and approval steps of a tool call
 * whose request came before the period. Everything else must not count.
 */
function fixture(): MemoryLog {
  const log = new MemoryLog();
  log.append(req('early', 'oa', T(1), 'allow', ['targeting_support'], 'm2')); // 0: before the period
  for (let i = 0; i < 300; i++) log.append(req(`an${i}`, 'an', T(3), i % 3 ? 'allow' : 'deny', ['general'])); // 1..300: other provider
  log.append(
    req('a', 'oa', T(2, 0), 'allow', ['general']), // 301: first instant of the period
    req('b', 'oa', T(4), 'allow', ['general'], 'm2'), // 302
    req('c', 'oa', T(5), 'deny', ['domestic_mass_surveillance']), // 303
    req('d', 'oa', T(6), 'hold', ['targeting_support', 'military_planning']), // 304
    { time: T(6), decisionId: 'tcd_d', principal: 'p', action: 'tool_call', labels: ['targeting_support'], decision: 'deny', tool: 'strike', requestId: 'req_d', provider: 'oa', model: 'm1' }, // 305
    { time: T(7), decisionId: 'apr_1', principal: 'p', action: 'tool_call', labels: [], decision: 'hold', toolName: 'fire_mission', requestId: 'req_early' }, // 306: via 0
    { time: T(7), decisionId: 'apr_1', principal: 'p', action: 'tool_call', labels: [], decision: 'approval', toolName: 'fire_mission', requestId: 'req_early' }, // 307: via 0
    { time: T(7), decisionId: 'apr_2', principal: 'p', action: 'tool_call', labels: [], decision: 'timeout', toolName: 'fire_mission', requestId: 'req_an1' }, // 308: another provider's request
    { time: T(7), decisionId: 'rld_1', principal: 'p', action: 'policy_reload', labels: [], decision: 'policy_reload' }, // 309
    req('e', 'oa', T(10), 'allow', ['general']), // 310: the end is exclusive
    req('f', 'oax', T(4), 'allow', ['general']), // 311: a provider whose name merely starts the same
  );
  return log;
}

const QUERY = { provider: 'oa', from: '2025-03-02', to: T(10) };

async function reportOf(log: MemoryLog, size?: number): Promise<UsageReport> {
  const cp = verifyCheckpoint(log.checkpoint(size), KEY.vkey);
  return buildUsageReport(cp, log.source.entryBundle, QUERY);
}

async function rejectsWith(p: Promise<unknown>, code: ReportErrorCode | VerificationErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ReportError || e instanceof VerificationError, `unexpected ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

const clone = (r: UsageReport): UsageReport => JSON.parse(JSON.stringify(r)) as UsageReport;

test('a report counts the provider\'s entries in [from, to) per label and decision, and lists them', async () => {
  const log = fixture();
  const r = await reportOf(log);
  assert.equal(r.format, 'redline.usage-report/v1');
  assert.equal(r.from, '2025-03-02T00:00:00.000Z');
  assert.equal(r.to, '2025-03-10T12:00:00.000Z');
  assert.equal(r.tree_size, 312);
  assert.equal(r.origin, ORIGIN);
  assert.deepEqual(r.entries, [301, 302, 303, 304, 305, 306, 307]);
  assert.deepEqual(r.request_of, { 306: 0, 307: 0 });
  assert.deepEqual(r.counts, {
    requests: {
      total: 4,
      by_decision: { allow: 2, deny: 1, hold: 1 },
      by_label: {
        domestic_mass_surveillance: { deny: 1 },
        general: { allow: 2 },
        military_planning: { hold: 1 },
        targeting_support: { hold: 1 },
      },
      by_model: { m1: 3, m2: 1 },
      by_action: { chat: 4 },
    },
    tool_calls: {
      total: 3,
      by_decision: { approval: 1, deny: 1, hold: 1 },
      by_tool: { fire_mission: { approval: 1, hold: 1 }, strike: { deny: 1 } },
    },
  });
  assert.equal(verifyCheckpoint(r.checkpoint, KEY.vkey).size, 312);
});

test('an auditor re-derives the report: complete scan and listed entries only', async () => {
  const log = fixture();
  const r = await reportOf(log);
  const full = await verifyUsageReport(JSON.stringify(r), [KEY.vkey], log.source);
  assert.equal(full.checked, 312);
  assert.equal(full.complete, true);
  const listed = await verifyUsageReport(r, KEY.vkey, log.source, { complete: false });
  assert.equal(listed.checked, 8, 'seven listed entries and the request entry two of them link to');
  // The log grows; the report still verifies at its own checkpoint.
  log.append(req('g', 'oa', T(5), 'allow', ['general']));
  await verifyUsageReport(r, KEY.vkey, log.source);
  // A report at the new size counts the new entry, which the old one rightly does not.
  const later = await reportOf(log);
  assert.equal(later.counts.requests.total, 5);
  await verifyUsageReport(later, KEY.vkey, log.source);
});

test('tampering is caught with the first discrepancy', async () => {
  const log = fixture();
  const r = await reportOf(log);

  const count = clone(r);
  count.counts.requests.by_label.general!.allow = 3;
  await rejectsWith(verifyUsageReport(count, KEY.vkey, log.source), 'COUNT_MISMATCH', /^counts\.requests\.by_label\.general\.allow: the report says 3, its listed entries give 2$/);

  const dropped = clone(r);
  dropped.entries = dropped.entries.filter((i) => i !== 303);
  await rejectsWith(verifyUsageReport(dropped, KEY.vkey, log.source), 'COUNT_MISMATCH', /^counts\.requests\.total: the report says 4, its listed entries give 3$/);

  // Dropping the entry and every count it contributed to is consistent, and only the scan finds it.
  const hidden = clone(r);
  hidden.entries = hidden.entries.filter((i) => i !== 303);
  hidden.counts.requests.total--;
  delete hidden.counts.requests.by_decision.deny;
  delete hidden.counts.requests.by_label.domestic_mass_surveillance;
  hidden.counts.requests.by_model.m1!--;
  hidden.counts.requests.by_action.chat!--;
  await verifyUsageReport(hidden, KEY.vkey, log.source, { complete: false });
  await rejectsWith(verifyUsageReport(hidden, KEY.vkey, log.source), 'ENTRY_LEFT_OUT', /^entry 303 \(chat, deny, 2025-03-05T12:00:00Z\) belongs to provider "oa"/);

  const foreign = clone(r);
  foreign.entries = [...foreign.entries, 311];
  await rejectsWith(verifyUsageReport(foreign, KEY.vkey, log.source), 'ENTRY_NOT_MATCHING', /^entry 311 is listed but does not count .*: it is for provider "oax"$/);
  const outside = clone(r);
  outside.entries = [0, ...outside.entries];
  await rejectsWith(verifyUsageReport(outside, KEY.vkey, log.source, { complete: false }), 'ENTRY_NOT_MATCHING', /entry 0 .*outside the period/);
  const beyond = clone(r);
  beyond.entries = [...beyond.entries, 312];
  await rejectsWith(verifyUsageReport(beyond, KEY.vkey, log.source), 'ENTRY_NOT_IN_TREE', /entry 312/);

  const link = clone(r);
  link.request_of['307'] = 1;
  await rejectsWith(verifyUsageReport(link, KEY.vkey, log.source), 'LINK_MISMATCH', /entry 307 is a tool call of the request in entry 0, but request_of says 1/);
  await rejectsWith(verifyUsageReport(link, KEY.vkey, log.source, { complete: false }), 'ENTRY_NOT_MATCHING', /entry 307/);
  const unlinked = clone(r);
  delete unlinked.request_of['306'];
  await rejectsWith(verifyUsageReport(unlinked, KEY.vkey, log.source, { complete: false }), 'LINK_MISMATCH', /entry 306/);

  const period = clone(r);
  period.to = '2025-03-11T00:00:00.000Z';
  await rejectsWith(verifyUsageReport(period, KEY.vkey, log.source), 'ENTRY_LEFT_OUT', /entry 310/);
  const size = clone(r);
  size.tree_size = 311;
  await rejectsWith(verifyUsageReport(size, KEY.vkey, log.source), 'CHECKPOINT_MISMATCH', /tree_size/);
  const unsorted = clone(r);
  unsorted.entries = [302, 301, ...unsorted.entries.slice(2)];
  await rejectsWith(verifyUsageReport(unsorted, KEY.vkey, log.source), 'MALFORMED_REPORT', /ascending/);
  const loose = clone(r);
  loose.from = '2025-03-02';
  await rejectsWith(verifyUsageReport(loose, KEY.vkey, log.source), 'MALFORMED_REPORT', /^from /);
});

test('a forged checkpoint or a log that differs from it fails verification', async () => {
  const log = fixture();
  const r = await reportOf(log);

  // Signed by a key the auditor does not trust.
  const forged = clone(r);
  forged.checkpoint = log.checkpoint(undefined, keyPair());
  await rejectsWith(verifyUsageReport(forged, KEY.vkey, log.source), 'UNKNOWN_KEY');
  // The trusted key's signature over other text.
  const edited = clone(r);
  edited.checkpoint = r.checkpoint.replace('\n312\n', '\n311\n');
  await rejectsWith(verifyUsageReport(edited, KEY.vkey, log.source), 'BAD_SIGNATURE');

  // The log serves an entry the checkpoint never committed to.
  const other = fixture();
  other.data[303] = canonicalBytes({ v: 1, ...req('c', 'oa', T(5), 'allow', ['domestic_mass_surveillance']) });
  await rejectsWith(verifyUsageReport(r, KEY.vkey, other.source), 'ROOT_MISMATCH');
  await rejectsWith(verifyUsageReport(r, KEY.vkey, other.source, { complete: false }), 'ROOT_MISMATCH');
});

test('entries that belong to the provider must be well formed', async () => {
  const log = new MemoryLog();
  log.append(req('a', 'oa', 'yesterday', 'allow', ['general']));
  await rejectsWith(reportOf(log), 'MALFORMED_ENTRY', /entry 0 has no RFC 3339 time/);
  const s = new UsageScanner(QUERY);
  assert.throws(() => s.add(1, canonicalBytes({})), (e: unknown) => e instanceof VerificationError && e.code === 'INVALID_ARGUMENT');
  assert.throws(() => s.add(0, new TextEncoder().encode('[1]')), (e: unknown) => e instanceof VerificationError && e.code === 'MALFORMED_ENTRY');
});

test('RFC 3339 times: offsets, fractions, calendar limits', () => {
  assert.equal(parseRfc3339('2025-03-02T01:30:00+01:30'), Date.UTC(2025, 2, 2, 0, 0, 0));
  assert.equal(parseRfc3339('2025-03-02t00:00:00.123999z'), Date.UTC(2025, 2, 2, 0, 0, 0, 123));
  assert.equal(parseRfc3339('2024-02-29T00:00:00Z'), Date.UTC(2024, 1, 29));
  for (const bad of ['2025-02-29T00:00:00Z', '2025-13-01T00:00:00Z', '2025-03-02T24:00:00Z', '2025-03-02 00:00:00Z', '2025-03-02T00:00:00', '2025-03-02T00:00:00+1:00', 42]) {
    assert.equal(parseRfc3339(bad), undefined, String(bad));
  }
  assert.equal(normaliseReportTime('2025-03-02'), '2025-03-02T00:00:00.000Z');
  assert.equal(normaliseReportTime('2025-03-02T00:00:00-05:00'), '2025-03-02T05:00:00.000Z');
  assert.throws(() => normaliseReportTime('March'), (e: unknown) => e instanceof VerificationError && e.code === 'INVALID_ARGUMENT');
  assert.throws(() => new UsageScanner({ provider: 'oa', from: T(5), to: T(5) }), /empty/);
});
