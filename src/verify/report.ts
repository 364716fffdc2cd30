// Usage reports: what one provider's models were used for in a period, as counts per use label and
// decision, anchored to a signed checkpoint. The report lists the index of every entry it counted, so
// whoever receives it can check each count against the log, and an auditor can scan the whole log up to
// the checkpoint to prove that no matching entry was left out. It lives in redline/verify because the
// provider and the auditor sit outside the operator's trust and must be able to check a report without
// running redline: like the rest of this folder it fetches nothing and takes trust material as arguments.
import { verifyCheckpoint, type VerifiedCheckpoint } from './checkpoint.js';
import { toBase64 } from './encoding.js';
import { VerificationError } from './errors.js';
import { verifyAllEntries, verifyEntryInclusion } from './log.js';
import type { VerifierKey } from './note.js';
import type { EntryBundleFetcher, TileFetcher } from './tiles.js';

export const REPORT_FORMAT = 'redline.usage-report/v1';

/** Key used in `by_label` for an entry with no use label, and in `by_model` for one naming no model. */
export const NONE_KEY = '(none)';

export type ReportErrorCode =
  /** The document is not a usage report (shape, types, canonical times, sorted indices). */
  | 'MALFORMED_REPORT'
  /** tree_size, root_hash or origin disagree with the report's own signed checkpoint. */
  | 'CHECKPOINT_MISMATCH'
  /** A listed index is not below the checkpoint's tree size. */
  | 'ENTRY_NOT_IN_TREE'
  /** A listed entry does not belong to the report (another provider, outside the period, ...). */
  | 'ENTRY_NOT_MATCHING'
  /** request_of does not name the request entry that ties a tool-call entry to the provider. */
  | 'LINK_MISMATCH'
  /** A count differs from the one recomputed from the listed entries. */
  | 'COUNT_MISMATCH'
  /** An entry in the tree belongs to the report but is not listed. */
  | 'ENTRY_LEFT_OUT';

/** A discrepancy between a report and the log. Failures of the log itself stay VerificationErrors. */
export class ReportError extends Error {
  readonly code: ReportErrorCode;

  constructor(code: ReportErrorCode, message: string) {
    super(message);
    this.name = 'ReportError';
    this.code = code;
  }
}

export function isReportError(e: unknown): e is ReportError {
  return e instanceof ReportError;
}

export interface UsageQuery {
  provider: string;
  /** Start of the period, inclusive (RFC 3339). */
  from: string;
  /** End of the period, exclusive (RFC 3339). */
  to: string;
}

export type Tally = Record<string, number>;

export interface UsageCounts {
  /** Decision entries of requests served or refused for the provider (actions chat, messages, ...). */
  requests: {
    total: number;
    by_decision: Tally;
    /** label → decision → count. An entry with several labels counts once under each. */
    by_label: Record<string, Tally>;
    by_model: Tally;
    by_action: Tally;
  };
  /** Tool-call entries of those requests: policy denials, holds, approvals, denials, timeouts. */
  tool_calls: {
    total: number;
    by_decision: Tally;
    /** tool name → decision → count (`redline.request` is a whole request held for approval). */
    by_tool: Record<string, Tally>;
  };
}

export interface UsageReport {
  format: typeof REPORT_FORMAT;
  provider: string;
  from: string;
  to: string;
  origin: string;
  tree_size: number;
  /** Base64, as in the checkpoint. */
  root_hash: string;
  counts: UsageCounts;
  /** Every entry counted, ascending. */
  entries: number[];
  /**
   * For tool-call entries that name no provider (approval steps): the index of the request entry of
   * the same requestId that names it. Keys are entry indices in decimal.
   */
  request_of: Record<string, number>;
  /** The signed checkpoint note the report is anchored to. */
  checkpoint: string;
}

// ---- time -----------------------------------------------------------------------------------------------

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|([+-])(\d{2}):(\d{2}))$/;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Milliseconds since the epoch of an RFC 3339 timestamp, fractions below a millisecond dropped (so a
 * comparison with a whole-millisecond bound is exact); undefined if it is not one. Hand-written rather
 * than Date.parse, whose accepted forms beyond ISO 8601's simplified format are implementation-defined.
 */
export function parseRfc3339(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > daysIn(y!, mo!) || h! > 23 || mi! > 59 || sec! > 60) return undefined;
  const ms = Number((m[7] ?? '').slice(0, 3).padEnd(3, '0'));
  let offset = 0;
  if (m[9]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offset = (m[9] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, sec!, ms) - offset;
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** An RFC 3339 timestamp or a date (midnight UTC) as `YYYY-MM-DDTHH:MM:SS.sssZ`; throws INVALID_ARGUMENT. */
export function normaliseReportTime(s: string): string {
  const d = typeof s === 'string' ? DATE_ONLY.exec(s) : null;
  const ms = d ? parseRfc3339(`${s}T00:00:00Z`) : parseRfc3339(s);
  if (ms === undefined) throw new VerificationError('INVALID_ARGUMENT', 'times must be RFC 3339 timestamps (or dates, meaning midnight UTC)');
  return new Date(ms).toISOString();
}

function checkQuery(q: UsageQuery): { provider: string; from: string; to: string; fromMs: number; toMs: number } {
  if (typeof q?.provider !== 'string' || q.provider.length === 0) throw new VerificationError('INVALID_ARGUMENT', 'provider must be a non-empty string');
  const from = normaliseReportTime(q.from);
  const to = normaliseReportTime(q.to);
  const fromMs = Date.parse(from);
  const toMs = Date.parse(to);
  if (!(fromMs < toMs)) throw new VerificationError('INVALID_ARGUMENT', 'the period is empty: from must be before to');
  return { provider: q.provider, from, to, fromMs, toMs };
}

// ---- matching and counting ------------------------------------------------------------------------------

type Entry = Record<string, unknown>;

/** Whether and how an entry counts: as a request, as a tool call (possibly via its request), or not, and why. */
export type EntryMatch =
  | { counts: true; kind: 'request' }
  | { counts: true; kind: 'tool_call'; via?: number }
  | { counts: false; reason: string };

function parseEntry(index: number, data: Uint8Array): Entry {
  let e: unknown;
  try {
    e = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch (err) {
    throw new VerificationError('MALFORMED_ENTRY', `entry ${index} is not JSON`, { cause: err });
  }
  if (e === null || typeof e !== 'object' || Array.isArray(e)) throw new VerificationError('MALFORMED_ENTRY', `entry ${index} is not a JSON object`);
  return e as Entry;
}

/** The fields a counted entry must have; a log that lacks them cannot back a count. */
function checkCounted(index: number, e: Entry): void {
  const bad = (what: string): never => {
    throw new VerificationError('MALFORMED_ENTRY', `entry ${index} ${what}`);
  };
  if (typeof e.decision !== 'string' || e.decision.length === 0) bad('has no decision');
  if (typeof e.action !== 'string' || e.action.length === 0) bad('has no action');
  if (e.labels !== undefined && !(Array.isArray(e.labels) && e.labels.every((l) => typeof l === 'string'))) bad('has labels that are not strings');
  if (e.model !== undefined && typeof e.model !== 'string') bad('has a model that is not a string');
}

const isRequestFor = (e: Entry, provider: string): boolean => e.action !== 'tool_call' && e.provider === provider;

// Maps keep attacker-chosen names (labels, models) away from object prototypes until they are written
// out with Object.fromEntries, which defines own properties only.
class Counter {
  requests = 0;
  toolCalls = 0;
  readonly byDecision = new Map<string, number>();
  readonly byLabel = new Map<string, Map<string, number>>();
  readonly byModel = new Map<string, number>();
  readonly byAction = new Map<string, number>();
  readonly toolByDecision = new Map<string, number>();
  readonly byTool = new Map<string, Map<string, number>>();

  add(kind: 'request' | 'tool_call', e: Entry): void {
    const decision = e.decision as string;
    if (kind === 'request') {
      this.requests++;
      bump(this.byDecision, decision);
      bump(this.byModel, typeof e.model === 'string' ? e.model : NONE_KEY);
      bump(this.byAction, e.action as string);
      const labels = [...new Set((e.labels as string[] | undefined) ?? [])];
      for (const l of labels.length > 0 ? labels : [NONE_KEY]) bump2(this.byLabel, l, decision);
    } else {
      this.toolCalls++;
      bump(this.toolByDecision, decision);
      const tool = typeof e.toolName === 'string' ? e.toolName : typeof e.tool === 'string' ? e.tool : NONE_KEY;
      bump2(this.byTool, tool, decision);
    }
  }

  counts(): UsageCounts {
    return {
      requests: {
        total: this.requests,
        by_decision: plain(this.byDecision),
        by_label: plain2(this.byLabel),
        by_model: plain(this.byModel),
        by_action: plain(this.byAction),
      },
      tool_calls: {
        total: this.toolCalls,
        by_decision: plain(this.toolByDecision),
        by_tool: plain2(this.byTool),
      },
    };
  }
}

const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
function bump2(m: Map<string, Map<string, number>>, k: string, k2: string): void {
  let inner = m.get(k);
  if (!inner) m.set(k, (inner = new Map()));
  bump(inner, k2);
}
const sorted = <T>(m: Map<string, T>): [string, T][] => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
const plain = (m: Map<string, number>): Tally => Object.fromEntries(sorted(m));
const plain2 = (m: Map<string, Map<string, number>>): Record<string, Tally> => Object.fromEntries(sorted(m).map(([k, v]) => [k, plain(v)]));

/**
 * Reads entries in index order and decides for each whether it belongs to the report. Approval steps
 * of a tool call name no provider, only the request they belong to, so the scanner remembers which
 * request ids were the provider's; the request entry is always appended before its tool calls.
 */
export class UsageScanner {
  readonly query: UsageQuery;
  private readonly fromMs: number;
  private readonly toMs: number;
  private readonly requestIndex = new Map<string, number>();
  private readonly counter = new Counter();
  private readonly counted: number[] = [];
  private readonly links = new Map<number, number>();
  private next = 0;

  constructor(query: UsageQuery) {
    const q = checkQuery(query);
    this.query = { provider: q.provider, from: q.from, to: q.to };
    this.fromMs = q.fromMs;
    this.toMs = q.toMs;
  }

  /** Adds entry `index` (which must be the next one) and says whether it counted. */
  add(index: number, data: Uint8Array): EntryMatch {
    if (index !== this.next) throw new VerificationError('INVALID_ARGUMENT', `entries must be added in order: expected ${this.next}, got ${index}`);
    this.next++;
    const e = parseEntry(index, data);
    const { provider } = this.query;
    if (isRequestFor(e, provider) && typeof e.requestId === 'string' && !this.requestIndex.has(e.requestId)) this.requestIndex.set(e.requestId, index);
    const m = matchEntry(index, e, provider, this.fromMs, this.toMs, (id) => this.requestIndex.get(id));
    if (m.counts) {
      this.counter.add(m.kind, e);
      this.counted.push(index);
      if (m.kind === 'tool_call' && m.via !== undefined) this.links.set(index, m.via);
    }
    return m;
  }

  get size(): number {
    return this.next;
  }

  result(): { counts: UsageCounts; entries: number[]; request_of: Record<string, number> } {
    return { counts: this.counter.counts(), entries: [...this.counted], request_of: Object.fromEntries([...this.links].map(([k, v]) => [String(k), v])) };
  }
}

function matchEntry(index: number, e: Entry, provider: string, fromMs: number, toMs: number, requestOf: (requestId: string) => number | undefined): EntryMatch {
  const no = (reason: string): EntryMatch => ({ counts: false, reason });
  let m: EntryMatch;
  if (e.action === 'tool_call') {
    if (typeof e.provider === 'string') {
      if (e.provider !== provider) return no(`it is a tool call for provider ${JSON.stringify(e.provider)}`);
      m = { counts: true, kind: 'tool_call' };
    } else {
      if (typeof e.requestId !== 'string') return no('it is a tool call that names neither a provider nor a request');
      const via = requestOf(e.requestId);
      if (via === undefined) return no('it is a tool call of a request that is not an earlier entry for this provider');
      m = { counts: true, kind: 'tool_call', via };
    }
  } else if (e.provider !== provider) {
    return no(typeof e.provider === 'string' ? `it is for provider ${JSON.stringify(e.provider)}` : `it names no provider (action ${JSON.stringify(e.action)})`);
  } else {
    m = { counts: true, kind: 'request' };
  }
  const t = parseRfc3339(e.time);
  if (t === undefined) throw new VerificationError('MALFORMED_ENTRY', `entry ${index} has no RFC 3339 time`);
  if (t < fromMs || t >= toMs) return no(`its time ${String(e.time)} is outside the period`);
  checkCounted(index, e);
  return m;
}

// ---- building -------------------------------------------------------------------------------------------

/**
 * Builds the report for `query` from every entry of the tree of a checkpoint the caller has verified:
 * the entries are fetched, the tree is rebuilt and its root checked against the checkpoint (as
 * verifyAllEntries does), and only then is the report returned.
 */
export async function buildUsageReport(
  cp: VerifiedCheckpoint,
  fetchBundle: EntryBundleFetcher,
  query: UsageQuery,
  opts: { concurrency?: number } = {},
): Promise<UsageReport> {
  const scanner = new UsageScanner(query);
  await verifyAllEntries(cp, fetchBundle, {
    ...(opts.concurrency !== undefined && { concurrency: opts.concurrency }),
    onEntry: (i, data) => void scanner.add(i, data),
  });
  const r = scanner.result();
  return {
    format: REPORT_FORMAT,
    ...scanner.query,
    origin: cp.origin,
    tree_size: cp.size,
    root_hash: toBase64(cp.rootHash),
    counts: r.counts,
    entries: r.entries,
    request_of: r.request_of,
    checkpoint: cp.note,
  };
}

// ---- checking -------------------------------------------------------------------------------------------

const malformed = (what: string): never => {
  throw new ReportError('MALFORMED_REPORT', what);
};
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Checks the shape of a report document (not its truth: see verifyUsageReport). Throws MALFORMED_REPORT. */
export function parseUsageReport(doc: unknown): UsageReport {
  let d = doc;
  if (typeof d === 'string') {
    try {
      d = JSON.parse(d);
    } catch {
      malformed('the report is not JSON');
    }
  }
  if (!isObject(d)) return malformed('the report is not a JSON object');
  if (d.format !== REPORT_FORMAT) malformed(`format is not ${REPORT_FORMAT}`);
  for (const k of ['provider', 'from', 'to', 'origin', 'root_hash', 'checkpoint'] as const) {
    if (typeof d[k] !== 'string' || d[k].length === 0) malformed(`${k} must be a non-empty string`);
  }
  for (const k of ['from', 'to'] as const) {
    let canonical: string | undefined;
    try {
      canonical = normaliseReportTime(d[k] as string);
    } catch {
      // reported below
    }
    if (canonical !== d[k]) malformed(`${k} must be a timestamp of the form YYYY-MM-DDTHH:MM:SS.sssZ`);
  }
  if (!(Date.parse(d.from as string) < Date.parse(d.to as string))) malformed('from must be before to');
  if (!isIndex(d.tree_size)) malformed('tree_size must be a non-negative integer');
  if (!isObject(d.counts)) malformed('counts must be an object');
  if (!Array.isArray(d.entries) || !d.entries.every(isIndex)) malformed('entries must be a list of entry indices');
  const entries = d.entries as number[];
  for (let i = 1; i < entries.length; i++) if (entries[i]! <= entries[i - 1]!) malformed(`entries must be ascending without repeats (at position ${i})`);
  if (!isObject(d.request_of)) malformed('request_of must be an object');
  for (const [k, v] of Object.entries(d.request_of as Record<string, unknown>)) {
    if (!/^(0|[1-9][0-9]*)$/.test(k) || !isIndex(Number(k)) || !isIndex(v)) malformed('request_of must map entry indices to entry indices');
  }
  return d as unknown as UsageReport;
}

/**
 * The first place two JSON values differ, as [path, left, right]; undefined when equal. Keys are
 * walked in the order of `b` (the recomputed counts: totals first), then any extra keys of `a`.
 */
function firstDifference(a: unknown, b: unknown, path: string): [string, unknown, unknown] | undefined {
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])];
    for (const k of keys) {
      const d = firstDifference(Object.hasOwn(a, k) ? a[k] : undefined, Object.hasOwn(b, k) ? b[k] : undefined, `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  return Object.is(a, b) ? undefined : [path, a, b];
}

const shown = (v: unknown): string => (v === undefined ? 'nothing' : isObject(v) ? 'an object' : JSON.stringify(v));

export interface VerifyReportOptions {
  /**
   * Also scan every entry up to the checkpoint's size to prove no matching entry was left out
   * (default true). Without it, only the listed entries are fetched, each with an inclusion proof.
   */
  complete?: boolean;
  /** Require this checkpoint origin. */
  origin?: string;
  /** Bundles fetched at once during the scan. */
  concurrency?: number;
  /** Told as each check begins, so a caller can name the check that failed. */
  onStep?: (step: ReportStep) => void;
}

export type ReportStep = 'report' | 'checkpoint' | 'entries' | 'listed entries' | 'counts' | 'completeness';

export interface VerifiedUsageReport {
  report: UsageReport;
  checkpoint: VerifiedCheckpoint;
  /** Entries read and authenticated: the whole tree with `complete`, else the listed and linked ones. */
  checked: number;
  complete: boolean;
}

/**
 * Re-derives a usage report from the log. In order: the document's shape; its checkpoint's signature
 * (with the keys the caller trusts) and that tree_size, root_hash and origin are the checkpoint's; that
 * every listed entry is in the tree (rebuilding the tree from all entries, or an inclusion proof per
 * entry) and belongs to the report; that request_of names the right request entries; that the counts
 * are exactly those of the listed entries; and (with `complete`) that no entry of the tree that belongs
 * to the report is missing from the list. Throws the first discrepancy as a ReportError, or a
 * VerificationError when the log or the checkpoint itself does not verify.
 */
export async function verifyUsageReport(
  doc: unknown,
  keys: string | VerifierKey | readonly (string | VerifierKey)[],
  source: { tile: TileFetcher; entryBundle: EntryBundleFetcher },
  opts: VerifyReportOptions = {},
): Promise<VerifiedUsageReport> {
  const step = opts.onStep ?? (() => {});
  step('report');
  const report = parseUsageReport(doc);
  const complete = opts.complete ?? true;
  step('checkpoint');
  const cp = verifyCheckpoint(report.checkpoint, keys, opts.origin === undefined ? {} : { origin: opts.origin });
  if (cp.origin !== report.origin) throw new ReportError('CHECKPOINT_MISMATCH', `origin is ${JSON.stringify(report.origin)} but the checkpoint is for ${JSON.stringify(cp.origin)}`);
  if (cp.size !== report.tree_size) throw new ReportError('CHECKPOINT_MISMATCH', `tree_size is ${report.tree_size} but the checkpoint is for size ${cp.size}`);
  if (toBase64(cp.rootHash) !== report.root_hash) throw new ReportError('CHECKPOINT_MISMATCH', 'root_hash is not the checkpoint\'s root hash');
  const q = checkQuery(report);
  step('listed entries');
  for (const i of report.entries) {
    if (i >= cp.size) throw new ReportError('ENTRY_NOT_IN_TREE', `entry ${i} is listed but the checkpoint covers entries 0 to ${cp.size - 1} only`);
  }
  const claimedLinks = new Map(Object.entries(report.request_of).map(([k, v]) => [Number(k), v]));
  for (const [i, via] of claimedLinks) {
    if (via >= cp.size) throw new ReportError('ENTRY_NOT_IN_TREE', `request_of names entry ${via} for entry ${i}, but the checkpoint covers entries 0 to ${cp.size - 1} only`);
  }

  const listed = new Set(report.entries);
  const matches = new Map<number, { match: EntryMatch; entry: Entry }>();
  let leftOut: { index: number; entry: Entry } | undefined;
  let checked = 0;
  step('entries');
  if (complete) {
    const scanner = new UsageScanner(report);
    await verifyAllEntries(cp, source.entryBundle, {
      ...(opts.concurrency !== undefined && { concurrency: opts.concurrency }),
      onEntry: (i, data) => {
        const match = scanner.add(i, data);
        if (listed.has(i)) matches.set(i, { match, entry: parseEntry(i, data) });
        else if (match.counts && !leftOut) leftOut = { index: i, entry: parseEntry(i, data) };
      },
    });
    checked = cp.size;
  } else {
    // Only the listed entries and the request entries their links name, each proven against the root.
    const fetched = new Map<number, Entry>();
    const fetch = async (i: number): Promise<Entry> => {
      let e = fetched.get(i);
      if (!e) {
        const { data } = await verifyEntryInclusion(cp, i, source);
        fetched.set(i, (e = parseEntry(i, data)));
      }
      return e;
    };
    for (const i of report.entries) {
      const entry = await fetch(i);
      const via = claimedLinks.get(i);
      if (via === undefined && entry.action === 'tool_call' && entry.provider === undefined) {
        throw new ReportError('LINK_MISMATCH', `entry ${i} is a tool call that names no provider, and request_of does not name its request entry`);
      }
      let linked: Entry | undefined;
      if (via !== undefined && via < i) linked = await fetch(via);
      const requestOf = (id: string): number | undefined =>
        linked !== undefined && isRequestFor(linked, q.provider) && linked.requestId === id ? via : undefined;
      matches.set(i, { match: matchEntry(i, entry, q.provider, q.fromMs, q.toMs, requestOf), entry });
    }
    checked = fetched.size;
  }

  // Every listed entry belongs to the report.
  step('listed entries');
  const counter = new Counter();
  for (const i of report.entries) {
    const { match, entry } = matches.get(i)!;
    if (!match.counts) throw new ReportError('ENTRY_NOT_MATCHING', `entry ${i} is listed but does not count for provider ${JSON.stringify(q.provider)} from ${q.from} to ${q.to}: ${match.reason}`);
    const claimed = claimedLinks.get(i);
    const derived = match.kind === 'tool_call' ? match.via : undefined;
    if (claimed !== derived) {
      throw new ReportError('LINK_MISMATCH', derived === undefined
        ? `request_of names entry ${claimed} for entry ${i}, which needs no link`
        : `entry ${i} is a tool call of the request in entry ${derived}, but request_of says ${claimed === undefined ? 'nothing' : claimed}`);
    }
    counter.add(match.kind, entry);
  }
  for (const i of claimedLinks.keys()) {
    if (!listed.has(i)) throw new ReportError('LINK_MISMATCH', `request_of names entry ${i}, which is not listed`);
  }

  // The counts are exactly those of the listed entries.
  step('counts');
  const diff = firstDifference(report.counts, counter.counts(), 'counts');
  if (diff) throw new ReportError('COUNT_MISMATCH', `${diff[0]}: the report says ${shown(diff[1])}, its listed entries give ${shown(diff[2])}`);

  // Nothing that belongs to the report was left out (known only after a complete scan).
  step('completeness');
  if (leftOut) {
    throw new ReportError('ENTRY_LEFT_OUT', `entry ${leftOut.index}${summarise(leftOut.entry)} belongs to provider ${JSON.stringify(q.provider)} from ${q.from} to ${q.to} but the report does not list it`);
  }
  return { report, checkpoint: cp, checked, complete };
}

const summarise = (e: Entry): string => ` (${[e.action, e.decision, e.time].map((v) => String(v)).join(', ')})`;
