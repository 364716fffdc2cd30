// Pipeline step after the model answers: tool calls with declared effects are checked by policy and,
// where a human must decide (always for `lethal`), held. A held call is never delivered without an
// approval: in `wait` mode the response stays open until approved, denied or timed out; in `defer`
// mode the response returns at once with the call withheld and a hold object naming the approval.
// Denied or timed-out calls are removed and the turn ends with a plain refusal the client can show.
import type { Approval, ApprovalService } from '../approvals/index.js';
import { RedlineError } from '../errors.js';
import type { ToolEffect } from '../classify/labels.js';
import type { PolicyEngine, PolicyInput, PolicyTarget } from '../policy/index.js';
import type { ChatResponse, StopReason, StreamEvent, TextPart, ToolCallPart } from '../wire/index.js';
import type { DecisionLog } from './record.js';

export type DeliveryMode = 'wait' | 'defer';

export interface ToolRules {
  effectOf(tool: string): ToolEffect;
  /** Approval requirement per effect; undefined when the effect needs none by configuration. */
  requirementOf(effect: ToolEffect): { approvers: number; roles: string[]; timeoutSeconds: number; mode: DeliveryMode } | undefined;
  /** A per-tool delivery mode from the config, if any. */
  modeOf(tool: string): DeliveryMode | undefined;
}

export interface GateDeps {
  approvals: ApprovalService;
  /** How a request that policy holds as a whole is released. */
  requestHold: { approvers: number; roles: string[]; timeoutSeconds: number; mode: DeliveryMode };
  engine: PolicyEngine;
  tools: ToolRules;
  ledger: DecisionLog;
  pseudonym(principalId: string): string;
  /** Base URL for status URLs ('' gives a path relative to the gateway). */
  publicUrl: string;
  /** How often a waiting stream gets an SSE keep-alive comment. */
  keepAliveMs: number;
}

/** What the gateway knows about the call whose answer is being gated. */
export interface GateContext {
  api: 'openai' | 'anthropic';
  requestId: string;
  requester: { id: string; name: string };
  input: PolicyInput;
  target: PolicyTarget;
  /** Per-request delivery mode from the x-redline-approval-mode header. */
  requestedMode?: DeliveryMode;
  signal: AbortSignal;
}

/** What the client is told beside the answer (in a `redline` field or event). */
export interface GateReport {
  approvals: Array<{ approval_id: string; status: Approval['status']; tool: string; tool_call_id: string; receipt?: unknown; reason?: string }>;
  holds: Array<{ approval_id: string; tool: string; tool_call_id: string; status_url: string; expires_at: string }>;
}

type Verdict = { kind: 'pass' } | { kind: 'deny'; reason: string } | { kind: 'hold'; effect: ToolEffect; requirement: { approvers: number; roles: string[] }; timeoutSeconds: number; mode: DeliveryMode; reason: string };

const DEFAULT_TIMEOUT_S = 600;
export const REQUEST_TOOL = 'redline.request';

export function createGate(deps: GateDeps) {
  /** Policy (and the approval configuration) on one tool call, decided by its name and effect. */
  function judge(ctx: GateContext, tool: string): Verdict {
    const effect = deps.tools.effectOf(tool);
    let d;
    try {
      d = deps.engine.decide({ ...ctx.input, action: 'tool_call', context: { ...ctx.input.context, toolEffects: [effect] } }, [ctx.target]);
    } catch (err) {
      throw new RedlineError('POLICY_FAILED', 'The policy engine could not decide on a tool call, so it is withheld (fail closed).', { cause: err });
    }
    const configured = deps.tools.requirementOf(effect);
    if (d.kind === 'deny') return { kind: 'deny', reason: d.reasons.join('; ') || 'no policy permits this tool call' };
    const needsHuman = d.kind === 'hold' || effect === 'lethal' || (configured !== undefined && configured.approvers > 0);
    if (!needsHuman) return { kind: 'pass' };
    const approvers = Math.max(effect === 'lethal' ? 1 : 0, configured?.approvers ?? 1, 1);
    return {
      kind: 'hold', effect,
      requirement: { approvers, roles: configured?.roles ?? [] },
      timeoutSeconds: configured?.timeoutSeconds ?? DEFAULT_TIMEOUT_S,
      mode: ctx.requestedMode ?? deps.tools.modeOf(tool) ?? configured?.mode ?? 'wait',
      reason: d.kind === 'hold' ? d.reasons.join('; ') : `tools with effect ${effect} need human approval`,
    };
  }

  async function recordToolDenial(ctx: GateContext, call: ToolCallPart, reason: string): Promise<void> {
    await deps.ledger.append({
      decisionId: `tcd_${ctx.requestId}_${call.id}`.slice(0, 120), principal: deps.pseudonym(ctx.requester.id), action: 'tool_call',
      labels: ctx.input.context.labels, decision: 'deny', tool: call.name, effect: deps.tools.effectOf(call.name), requestId: ctx.requestId,
      provider: ctx.target.provider, model: ctx.target.model, reasons: [reason],
    });
  }

  /** Holds one call and, in wait mode, waits for its outcome. */
  async function settle(ctx: GateContext, call: ToolCallPart, v: Extract<Verdict, { kind: 'hold' }>, report: GateReport, keepAlive?: () => void): Promise<'deliver' | 'withhold' | 'refuse'> {
    const approval = await deps.approvals.hold({
      requestId: ctx.requestId, requester: ctx.requester, toolName: call.name, toolCallId: call.id, arguments: call.arguments,
      effect: v.effect, requirement: v.requirement, timeoutSeconds: v.timeoutSeconds, mode: v.mode, api: ctx.api,
    });
    if (v.mode === 'defer') {
      report.holds.push({ approval_id: approval.id, tool: call.name, tool_call_id: call.id, status_url: `${deps.publicUrl}/v1/redline/approvals/${approval.id}`, expires_at: approval.expiresAt });
      return 'withhold';
    }
    const timer = keepAlive ? setInterval(keepAlive, deps.keepAliveMs) : undefined;
    let final: Approval;
    try {
      final = await deps.approvals.waitFor(approval.id, ctx.signal);
    } finally {
      if (timer) clearInterval(timer);
    }
    const last = final.decisions.at(-1);
    report.approvals.push({
      approval_id: final.id, status: final.status, tool: call.name, tool_call_id: call.id,
      ...(final.receipt && { receipt: final.receipt }),
      ...(final.status !== 'approved' && { reason: final.status === 'expired' ? 'no decision before the approval timed out' : `denied by ${last?.approver.name ?? 'an approver'}: ${last?.reason ?? ''}` }),
    });
    return final.status === 'approved' ? 'deliver' : 'refuse';
  }

  return {
    /**
     * A whole request that policy answered `hold` for. It is held as a pseudo tool call named
     * `redline.request` whose arguments are the SHA-256 of the request content, so the approval (and
     * its receipt) is bound to exactly this content. Wait mode blocks until decided; defer mode answers
     * 403 approval_required with the approval id, and the client re-sends the same request with
     * `x-redline-approval-id` once it is approved.
     */
    async holdRequest(ctx: GateContext, contentSha256: string, reasons: string[], approvalId?: string): Promise<void> {
      const args = JSON.stringify({ content_sha256: contentSha256 });
      if (approvalId) {
        const a = await deps.approvals.get(approvalId);
        const ok = a && a.status === 'approved' && a.toolName === REQUEST_TOOL && a.requester.id === ctx.requester.id && a.arguments === args;
        if (!ok) throw new RedlineError('APPROVAL_REQUIRED', `Approval ${approvalId.slice(0, 64)} does not release this request (not approved, another requester, or other content).`, { details: { approval_id: approvalId, reasons } });
        return;
      }
      const h = deps.requestHold;
      const mode = ctx.requestedMode ?? h.mode;
      const approval = await deps.approvals.hold({
        requestId: ctx.requestId, requester: ctx.requester, toolName: REQUEST_TOOL, toolCallId: ctx.requestId, arguments: args,
        effect: 'none', requirement: { approvers: h.approvers, roles: h.roles }, timeoutSeconds: h.timeoutSeconds, mode, api: ctx.api,
      });
      const status_url = `${deps.publicUrl}/v1/redline/approvals/${approval.id}`;
      if (mode === 'defer') {
        throw new RedlineError('APPROVAL_REQUIRED', `This request is held for human approval (${approval.id}): ${reasons.join('; ')}. Re-send it with the header x-redline-approval-id once approved.`, { details: { approval_id: approval.id, status_url, reasons } });
      }
      const final = await deps.approvals.waitFor(approval.id, ctx.signal);
      if (final.status !== 'approved') {
        const last = final.decisions.at(-1);
        const why = final.status === 'expired' ? 'no decision before the approval timed out' : `denied by ${last?.approver.name ?? 'an approver'}: ${last?.reason ?? ''}`;
        throw new RedlineError('POLICY_DENIED', `The held request was not released: ${why}.`, { details: { approval_id: approval.id, status_url, reasons } });
      }
    },

    /** Gates a complete answer. `keepAlive` is called periodically while a wait-mode approval is pending. */
    async gateResponse(ctx: GateContext, res: ChatResponse, keepAlive?: () => void): Promise<{ response: ChatResponse; report: GateReport }> {
      const report: GateReport = { approvals: [], holds: [] };
      const calls = res.content.filter((p): p is ToolCallPart => p.type === 'tool_call');
      if (calls.length === 0) return { response: res, report };
      const verdicts = new Map(calls.map((c) => [c, judge(ctx, c.name)] as const));
      if ([...verdicts.values()].every((v) => v.kind === 'pass')) return { response: res, report };
      const content: Array<TextPart | ToolCallPart> = [];
      const notes: string[] = [];
      for (const part of res.content) {
        if (part.type !== 'tool_call') { content.push(part); continue; }
        const v = verdicts.get(part)!;
        if (v.kind === 'pass') { content.push(part); continue; }
        if (v.kind === 'deny') {
          await recordToolDenial(ctx, part, v.reason);
          notes.push(refusal(part.name, `policy does not permit it (${v.reason})`));
          continue;
        }
        const outcome = await settle(ctx, part, v, report, keepAlive);
        if (outcome === 'deliver') content.push(part);
        else notes.push(outcome === 'withhold' ? heldNote(part.name, report.holds.at(-1)!) : refusal(part.name, report.approvals.at(-1)?.reason ?? 'not approved'));
      }
      if (notes.length > 0) content.push({ type: 'text', text: notes.join('\n') });
      return { response: { ...res, content, stopReason: stopAfterGate(res.stopReason, content) }, report };
    },

    /**
     * Gates a stream: text streams on; a gated tool call's events are buffered from its start to its
     * block_stop and released, replaced by a refusal, or withheld at the end of the model's turn.
     * Yields `keepalive` markers while waiting, which the route writes as SSE comments.
     */
    async *gateStream(ctx: GateContext, first: StreamEvent, rest: AsyncIterator<StreamEvent>, report: GateReport): AsyncGenerator<StreamEvent | { type: 'keepalive' }> {
      const held = new Map<number, { call: ToolCallPart; events: StreamEvent[]; verdict: Exclude<Verdict, { kind: 'pass' }> }>();
      let maxIndex = -1;
      let deliveredCalls = 0;
      let ev: StreamEvent | undefined = first;
      while (ev) {
        if ('index' in ev) maxIndex = Math.max(maxIndex, ev.index);
        if (ev.type === 'tool_call_start') {
          const v = judge(ctx, ev.name);
          if (v.kind === 'pass') { deliveredCalls++; yield ev; }
          else held.set(ev.index, { call: { type: 'tool_call', id: ev.id, name: ev.name, arguments: '' }, events: [ev], verdict: v });
        } else if ((ev.type === 'tool_call_delta' || ev.type === 'block_stop') && held.has(ev.index)) {
          const h = held.get(ev.index)!;
          h.events.push(ev);
          if (ev.type === 'tool_call_delta') h.call.arguments += ev.argumentsDelta;
        } else if (ev.type === 'finish') {
          let next = maxIndex + 1;
          const notes: string[] = [];
          for (const h of held.values()) {
            if (h.verdict.kind === 'deny') {
              await recordToolDenial(ctx, h.call, h.verdict.reason);
              notes.push(refusal(h.call.name, `policy does not permit it (${h.verdict.reason})`));
              continue;
            }
            // Keep-alives are produced by a timer while settle() waits; they are queued and flushed
            // by racing the wait against a short tick.
            const pending: Array<{ type: 'keepalive' }> = [];
            const settling = settle(ctx, h.call, h.verdict, report, () => pending.push({ type: 'keepalive' }));
            let done = false;
            settling.finally(() => { done = true; }).catch(() => {});
            while (!done) {
              await Promise.race([settling.catch(() => {}), new Promise((r) => setTimeout(r, Math.min(deps.keepAliveMs, 1_000)))]);
              while (pending.length) yield pending.shift()!;
            }
            const outcome = await settling;
            if (outcome === 'deliver') {
              deliveredCalls++;
              const at = next++;
              for (const e of h.events) yield { ...e, index: at } as StreamEvent;
            } else {
              notes.push(outcome === 'withhold' ? heldNote(h.call.name, report.holds.at(-1)!) : refusal(h.call.name, report.approvals.at(-1)?.reason ?? 'not approved'));
            }
          }
          if (notes.length > 0) {
            const at = next++;
            yield { type: 'text_start', index: at };
            yield { type: 'text_delta', index: at, text: notes.join('\n') };
            yield { type: 'block_stop', index: at };
          }
          const stopReason = held.size === 0 ? ev.stopReason : (deliveredCalls > 0 ? 'tool_use' : (ev.stopReason === 'tool_use' ? 'end' : ev.stopReason));
          yield { ...ev, stopReason };
        } else {
          yield ev;
        }
        const n: IteratorResult<StreamEvent> = await rest.next();
        ev = n.done ? undefined : n.value;
      }
    },
  };
}

function stopAfterGate(original: StopReason, content: Array<TextPart | ToolCallPart>): StopReason {
  if (content.some((p) => p.type === 'tool_call')) return 'tool_use';
  return original === 'tool_use' ? 'end' : original;
}

function refusal(tool: string, why: string): string {
  return `[redline] The call to ${tool} was not carried out: ${why}.`;
}

function heldNote(tool: string, h: GateReport['holds'][number]): string {
  return `[redline] The call to ${tool} is held for human approval (${h.approval_id}); its status and, once approved, the call and its receipt are at ${h.status_url}.`;
}

export type Gate = ReturnType<typeof createGate>;
