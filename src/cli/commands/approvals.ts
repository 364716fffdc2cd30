// `redline approvals list|show|approve|deny`: deciding on held tool calls. These talk HTTP to a running
// gateway rather than to the database, because a decision must come from an authenticated principal
// (its API key), never from whoever can read the data directory.
import { Option, type Command } from 'commander';

export interface Connection {
  url: string;
  key?: string;
}

export interface CommandResult {
  ok: boolean;
  /** Lines for stdout when ok, for stderr when not. */
  lines: string[];
}

interface ApiError { error?: { message?: string; code?: string } }
interface ApprovalJson {
  id: string;
  status: string;
  effect: string;
  tool_call: { name: string; arguments: string };
  requester: { name: string };
  requirement: { approvers: number; roles: string[] };
  approvals: number;
  expires_at: string;
  decisions: { approver: { name: string }; verdict: string; reason: string; at: string }[];
  receipt?: unknown;
}

class HttpFailure extends Error {}

async function call<T>(conn: Connection, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  if (!conn.key) throw new HttpFailure('no API key: pass --key or set REDLINE_API_KEY');
  const url = conn.url.replace(/\/+$/, '') + path;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${conn.key}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw new HttpFailure(`cannot reach the gateway at ${conn.url}: ${(e as Error).message}`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new HttpFailure(`the gateway answered HTTP ${res.status} with a body that is not JSON`);
  }
  if (!res.ok) {
    const err = (json as ApiError).error;
    throw new HttpFailure(`${(err?.code ?? `http_${res.status}`).toUpperCase()}: ${err?.message ?? 'request failed'}`);
  }
  return json as T;
}

async function guarded(fn: () => Promise<string[]>): Promise<CommandResult> {
  try {
    return { ok: true, lines: await fn() };
  } catch (e) {
    if (e instanceof HttpFailure) return { ok: false, lines: [e.message] };
    throw e;
  }
}

const summary = (a: ApprovalJson) =>
  `${a.id}  ${a.status.padEnd(8)}  ${a.effect.padEnd(14)}  ${a.tool_call.name.padEnd(20)}  ${a.requester.name.padEnd(14)}  ` +
  `${a.approvals}/${a.requirement.approvers}  expires ${a.expires_at}`;

export function listApprovals(conn: Connection, o: { status?: string; limit?: string; json?: boolean }): Promise<CommandResult> {
  return guarded(async () => {
    const qs = new URLSearchParams();
    if (o.status) qs.set('status', o.status);
    if (o.limit) qs.set('limit', o.limit);
    const res = await call<{ data: ApprovalJson[] }>(conn, 'GET', `/v1/redline/approvals${qs.toString() ? `?${qs}` : ''}`);
    if (o.json) return [JSON.stringify(res.data)];
    if (res.data.length === 0) return ['no approvals'];
    return res.data.map(summary);
  });
}

export function showApproval(conn: Connection, id: string): Promise<CommandResult> {
  return guarded(async () => [JSON.stringify(await call<ApprovalJson>(conn, 'GET', `/v1/redline/approvals/${encodeURIComponent(id)}`), null, 2)]);
}

export function decideApproval(conn: Connection, id: string, verdict: 'approve' | 'deny', reason: string, o: { json?: boolean } = {}): Promise<CommandResult> {
  return guarded(async () => {
    const a = await call<ApprovalJson>(conn, 'POST', `/v1/redline/approvals/${encodeURIComponent(id)}/${verdict}`, { reason });
    if (o.json) return [JSON.stringify(a)];
    if (a.status === 'pending') return [`recorded approval ${a.approvals} of ${a.requirement.approvers} for ${a.id}; still pending`];
    return [`${a.id} is now ${a.status}`];
  });
}

function emit(r: CommandResult): void {
  for (const l of r.lines) (r.ok ? console.log : console.error)(l);
  if (!r.ok) process.exitCode = 1;
}

function connectionOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--url <url>', 'gateway base URL').env('REDLINE_URL').default('http://127.0.0.1:8080'))
    .addOption(new Option('--key <key>', 'API key of the principal acting').env('REDLINE_API_KEY'))
    .option('--json', 'print JSON');
}

export function register(program: Command): void {
  const approvals = program.command('approvals').description('held tool calls awaiting human approval (talks to a running gateway)');
  connectionOptions(
    approvals
      .command('list')
      .description('list approvals visible to the key\'s principal')
      .addOption(new Option('--status <status>', 'only this status').choices(['pending', 'approved', 'denied', 'expired']))
      .option('--limit <n>', 'at most this many (1-500)'),
  ).action(async (o: Connection & { status?: string; limit?: string; json?: boolean }) => emit(await listApprovals(o, o)));
  connectionOptions(approvals.command('show <id>').description('show one approval, with its arguments and, once approved, its receipt'))
    .action(async (id: string, o: Connection) => emit(await showApproval(o, id)));
  for (const verdict of ['approve', 'deny'] as const) {
    connectionOptions(
      approvals
        .command(`${verdict} <id>`)
        .description(verdict === 'approve' ? 'approve a held tool call' : 'deny a held tool call (one denial ends it)')
        .requiredOption('--reason <text>', 'why; recorded with the decision'),
    ).action(async (id: string, o: Connection & { reason: string; json?: boolean }) => emit(await decideApproval(o, id, verdict, o.reason, o)));
  }
}
