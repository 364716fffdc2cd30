// `redline report`: what a provider asked for, how its models were used, as counts per use label and
// decision anchored to a signed checkpoint; and `redline report verify`, which re-derives every count
// from the log for someone who does not trust the operator. Reading the log (HTTP or the SQLite file)
// and choosing keys work as in `redline ledger verify`; the counting and checking are redline/verify's.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  NONE_KEY,
  buildUsageReport,
  isReportError,
  isVerificationError,
  normaliseReportTime,
  toBase64,
  verifyCheckpoint,
  verifyCheckpointConsistency,
  verifyUsageReport,
  type ReportStep,
  type Tally,
  type UsageReport,
  type VerifiedCheckpoint,
} from '../../verify/index.js';
import { DB_FILE } from '../../store/index.js';
import { CheckFailed, httpSource, keyLabel, sqliteSource, trustedKeys, type Source } from './ledger.js';

export interface ReportOptions {
  provider?: string;
  from?: string;
  to?: string;
  url?: string;
  dir?: string;
  key?: string[];
  keyFile?: string;
  origin?: string;
  json?: boolean;
  out?: string;
}

export interface ReportVerifyOptions {
  report?: string;
  url?: string;
  dir?: string;
  key?: string[];
  keyFile?: string;
  origin?: string;
  listedOnly?: boolean;
}

type Print = (line: string) => void;

function openSource(o: { url?: string | undefined; dir?: string | undefined }): Source {
  if (!!o.url === !!o.dir) throw new CheckFailed('give exactly one of --url URL or --dir DATA_DIR');
  return o.url ? httpSource(o.url) : sqliteSource(o.dir!);
}

const reason = (e: unknown): string =>
  isVerificationError(e) || isReportError(e) ? `${e.code}: ${e.message}` : e instanceof Error ? e.message : String(e);

/** Builds the report; prints the JSON document or a table. Returns the exit code. */
export async function runReport(o: ReportOptions, out: Print = console.log, err: Print = console.error): Promise<number> {
  let source: Source | undefined;
  let check = 'setup';
  try {
    for (const k of ['provider', 'from', 'to'] as const) if (!o[k]) throw new CheckFailed(`--${k} is required`);
    const query = { provider: o.provider!, from: normaliseReportTime(o.from!), to: normaliseReportTime(o.to!) };
    const keys = trustedKeys(o);
    source = openSource(o);
    check = 'checkpoint';
    const cp = verifyCheckpoint(await source.checkpoint(), keys, o.origin === undefined ? {} : { origin: o.origin });
    const uncovered = (source.size?.() ?? cp.size) - cp.size;
    if (uncovered > 0) err(`note: the newest stored checkpoint covers ${cp.size} entries; ${uncovered} later ones are not in this report (use --url for the live checkpoint)`);
    check = 'entries';
    const report = await buildUsageReport(cp, source.entryBundle, query, { concurrency: o.url ? 16 : 1 });
    const doc = JSON.stringify(report, null, 2) + '\n';
    if (o.out) writeFileSync(o.out, doc);
    if (o.json) out(doc.trimEnd());
    else for (const line of formatReport(report, cp)) out(line);
    return 0;
  } catch (e) {
    err(`FAIL ${check}: ${reason(e)}`);
    return 1;
  } finally {
    await source?.close();
  }
}

const inline = (t: Tally): string => Object.entries(t).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';

/** The report as a table for people; the JSON document is what gets checked. */
export function formatReport(r: UsageReport, cp?: VerifiedCheckpoint): string[] {
  const req = r.counts.requests;
  const decisions = Object.keys(req.by_decision);
  const labels = Object.keys(req.by_label);
  const w = Math.max(12, ...labels.map((l) => l.length));
  const cols = decisions.map((d) => Math.max(5, d.length));
  const row = (name: string, cells: (number | string)[], total: number | string): string =>
    `  ${name.padEnd(w)}  ${cells.map((c, i) => String(c).padStart(cols[i]!)).join('  ')}  ${String(total).padStart(5)}`;
  const lines = [
    `Usage report for provider ${r.provider}: ${r.from} to ${r.to} (end excluded)`,
    `Log ${r.origin} at size ${r.tree_size}, root ${r.root_hash}${cp ? ` (checkpoint signed by ${cp.verifiedBy.map(keyLabel).join(', ')})` : ''}`,
    '',
    `Requests: ${req.total}`,
  ];
  if (req.total > 0) {
    lines.push(row('use label', decisions, 'total'));
    for (const l of labels) {
      const t = req.by_label[l]!;
      lines.push(row(l, decisions.map((d) => t[d] ?? 0), Object.values(t).reduce((a, b) => a + b, 0)));
    }
    lines.push(row('all requests', decisions.map((d) => req.by_decision[d] ?? 0), req.total));
    const sum = labels.reduce((n, l) => n + Object.values(req.by_label[l]!).reduce((a, b) => a + b, 0), 0);
    if (sum > req.total) lines.push('  (a request with several labels counts once under each)');
    if (labels.includes(NONE_KEY)) lines.push(`  ("${NONE_KEY}": requests with no use label)`);
    lines.push(`  by model: ${inline(req.by_model)}`, `  by action: ${inline(req.by_action)}`);
  }
  const tools = r.counts.tool_calls;
  lines.push(`Tool calls of these requests: ${tools.total}`);
  if (tools.total > 0) {
    lines.push(`  by decision: ${inline(tools.by_decision)}`);
    for (const [tool, t] of Object.entries(tools.by_tool)) lines.push(`  ${tool}: ${inline(t)}`);
  }
  lines.push('', `Entries counted: ${r.entries.length} (their indices are in the JSON document: --json or --out FILE)`);
  return lines;
}

/** Re-derives a report from the log; prints one line per passed check and `ok`, or the first discrepancy. */
export async function runReportVerify(o: ReportVerifyOptions, out: Print = console.log, err: Print = console.error): Promise<number> {
  let source: Source | undefined;
  let check: string = 'setup';
  try {
    if (!o.report) throw new CheckFailed('--report FILE is required');
    const keys = trustedKeys(o);
    const text = readFileSync(o.report, 'utf8');
    source = openSource(o);
    const started = performance.now();
    const v = await verifyUsageReport(text, keys, source, {
      complete: !o.listedOnly,
      concurrency: o.url ? 16 : 1,
      ...(o.origin !== undefined && { origin: o.origin }),
      onStep: (s: ReportStep) => void (check = s),
    });
    const { report: r, checkpoint: cp } = v;
    out(`checkpoint: ${cp.origin} size ${cp.size} root ${toBase64(cp.rootHash)} signed by ${cp.verifiedBy.map(keyLabel).join(', ')}; tree_size and root_hash match it`);
    out(v.complete
      ? `entries: rebuilt the tree from all ${v.checked} entries; its root matches the report's checkpoint (${((performance.now() - started) / 1000).toFixed(2)} s)`
      : `entries: ${v.checked} entries (listed and linked) proven included in the report's checkpoint`);
    out(`listed entries: all ${r.entries.length} belong to provider ${r.provider} from ${r.from} to ${r.to}`);
    out('counts: every count equals the one recomputed from the listed entries');
    out(v.complete
      ? `completeness: no entry of the ${cp.size} that belongs to the report was left out`
      : 'completeness: not checked (--listed-only); run without it to scan the whole log');

    check = 'consistency';
    let current: VerifiedCheckpoint | undefined;
    try {
      current = verifyCheckpoint(await source.checkpoint(), keys, { origin: cp.origin });
    } catch (e) {
      // A database that holds no stored checkpoint yet has nothing to compare with; anything else fails.
      if (!(e instanceof CheckFailed)) throw e;
    }
    if (current) {
      const [older, newer] = current.size >= cp.size ? [cp, current] : [current, cp];
      await verifyCheckpointConsistency(older, newer, source.tile);
      out(`consistency: the log's current checkpoint (size ${current.size}) and the report's (size ${cp.size}) are one history`);
    } else {
      out('consistency: not checked (the database holds no signed checkpoint of its own to compare with)');
    }
    out(v.complete
      ? `ok: the report for ${r.provider} is exactly what the log holds at size ${cp.size}`
      : `ok: every listed entry and every count of the report for ${r.provider} checks out (completeness not checked)`);
    return 0;
  } catch (e) {
    err(`FAIL ${check}: ${reason(e)}`);
    return 1;
  } finally {
    await source?.close();
  }
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function register(program: Command): void {
  // One command with an optional `verify` word rather than a sub-command: commander hands options the
  // parent also declares (--url, --dir, --key-file) to the parent, so `report verify --url` would lose them.
  program
    .command('report')
    .argument('[verify]', 'check a report against the log instead of building one')
    .description('usage report for one provider: counts per use label and decision, anchored to a signed checkpoint. ' +
      '`redline report verify --report FILE` re-derives every count from the log and checks that none was left out')
    .option('--provider <name>', 'the provider the report is for (as named in the gateway configuration)')
    .option('--from <time>', 'start of the period, inclusive (RFC 3339, or a date meaning midnight UTC)')
    .option('--to <time>', 'end of the period, exclusive')
    .option('--url <url>', 'a running redline (its base URL); the log is read over HTTP')
    .option('--dir <dataDir>', `a data directory (or SQLite file) read directly and read-only (${DB_FILE})`)
    .option('--key <vkey>', 'trusted verifier key (repeatable)', collect, [])
    .option('--key-file <file>', 'file of trusted verifier keys, one per line (the log\'s verifiers file)')
    .option('--origin <origin>', 'require this checkpoint origin')
    .option('--json', 'print the report document (JSON) instead of a table')
    .option('--out <file>', 'also write the report document (JSON) to this file')
    .option('--report <file>', 'verify: the report document to check')
    .option('--listed-only', 'verify: check only the listed entries (inclusion proofs), not that none was left out')
    .action(async (verb: string | undefined, o: ReportOptions & ReportVerifyOptions) => {
      let code: number;
      if (verb === undefined) {
        if (o.report || o.listedOnly) {
          console.error('--report and --listed-only belong to `redline report verify`');
          code = 1;
        } else code = await runReport(o);
      } else if (verb === 'verify') {
        if (o.provider || o.from || o.to || o.json || o.out) {
          console.error('`redline report verify` takes the provider and period from the report; drop --provider/--from/--to/--json/--out');
          code = 1;
        } else code = await runReportVerify(o);
      } else {
        console.error(`unknown report action "${verb}"; did you mean \`redline report verify\`?`);
        code = 1;
      }
      if (code !== 0) process.exitCode = code;
    });
}
