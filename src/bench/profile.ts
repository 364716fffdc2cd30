// Reads a V8 .cpuprofile (written by `node --cpu-prof`) and says where the time went: self time per
// function, self time per area (redline folder, npm package, node internals, GC), and inclusive time
// of redline's own functions. Hand-rolled because the format is small and stable (Chrome DevTools
// protocol, Profiler.Profile) and DevTools is not at hand on a headless machine.
import { readFileSync } from 'node:fs';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export interface ProfileLine { name: string; ms: number; pct: number }
export interface ProfileSummary {
  totalMs: number;
  self: ProfileLine[];
  areas: ProfileLine[];
  /** Inclusive time of functions in the project's own compiled code (dist/). */
  ownInclusive: ProfileLine[];
}

export function summariseProfile(file: string, top = 20): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  // timeDeltas[i] is the gap before sample i; charge it to that sample (µs).
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const d = Math.max(0, p.timeDeltas[i] ?? 0);
    const id = p.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + d);
    totalUs += d;
  }
  const fnSelf = new Map<string, number>();
  const areaSelf = new Map<string, number>();
  const ownIncl = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const key = label(node.callFrame);
    fnSelf.set(key, (fnSelf.get(key) ?? 0) + us);
    const a = area(node.callFrame);
    areaSelf.set(a, (areaSelf.get(a) ?? 0) + us);
    // Inclusive: every distinct own function on the stack gets the sample once (recursion counts once).
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (!isOwn(f.url)) continue;
      const k = label(f);
      if (seen.has(k)) continue;
      seen.add(k);
      ownIncl.set(k, (ownIncl.get(k) ?? 0) + us);
    }
  }
  const lines = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, us]) => ({ name, ms: us / 1000, pct: (100 * us) / (totalUs || 1) }));
  return { totalMs: totalUs / 1000, self: lines(fnSelf), areas: lines(areaSelf), ownInclusive: lines(ownIncl) };
}

function isOwn(url: string): boolean {
  return url.includes('/dist/') && !url.includes('/node_modules/');
}

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + 14);
  const d = url.lastIndexOf('/dist/');
  if (d >= 0) return url.slice(d + 1);
  return url.replace(/^file:\/\//, '');
}

function label(f: CallFrame): string {
  const name = f.functionName || '(anonymous)';
  if (!f.url) return name;
  return `${name} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
}

function area(f: CallFrame): string {
  const url = f.url;
  if (!url) {
    // (program), (garbage collector), (idle), (root) and native builtins without a script.
    return f.functionName.startsWith('(') ? f.functionName : '(native)';
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + 14).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  const d = url.lastIndexOf('/dist/');
  if (d >= 0) {
    const parts = url.slice(d + 6).split('/');
    return `redline ${parts.length > 1 ? parts[0] + '/' : parts[0]}`;
  }
  return shortUrl(url);
}

export function formatProfile(title: string, s: ProfileSummary): string {
  const block = (head: string, ls: ProfileLine[]) =>
    [`  ${head}`, ...ls.map((l) => `    ${l.pct.toFixed(1).padStart(5)}%  ${l.ms.toFixed(0).padStart(7)} ms  ${l.name}`)].join('\n');
  return [
    `${title} (${(s.totalMs / 1000).toFixed(1)} s sampled)`,
    block('self time by area', s.areas.slice(0, 12)),
    block('self time by function', s.self),
    block('inclusive time, redline code', s.ownInclusive),
  ].join('\n');
}
