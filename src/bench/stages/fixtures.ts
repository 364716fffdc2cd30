// Inputs shared by the bench stages: an 8 KB prompt of ordinary work (logistics planning, the most
// common lawful use in the taxonomy), optionally with a few identifiers in it, and the neutral request
// and policy input a typical call produces. Deterministic, so runs compare.
import type { ChatRequest } from '../../wire/index.js';

/** The prompt size the issue targets are stated for. */
export const PROMPT_BYTES = 8 * 1024;

const SENTENCES = [
  'The convoy schedule for next week has to account for the bridge closure on the northern route.',
  'Please compare the fuel consumption of the two truck models over the last quarter and summarise the difference.',
  'Our warehouse in the east district is at ninety percent capacity, so incoming pallets should be redirected.',
  'Draft a short note to the maintenance team about the delayed spare parts for the forklifts.',
  'List the items that can be consolidated into a single shipment without breaking the delivery windows.',
  'The supplier confirmed that the replacement tyres will arrive on Thursday morning at the loading dock.',
  'Estimate how many additional drivers we need if the holiday demand rises by fifteen percent.',
  'Check whether the cold-chain containers meet the temperature requirements for the medical supplies.',
  'Rewrite the inventory report in plain language for the regional managers who read it on their phones.',
  'The customs paperwork for the spare generators is incomplete; note which fields are still missing.',
  'Suggest a loading order that keeps the heavy crates near the axles and the fragile goods on top.',
  'Summarise the feedback from the depot staff about the new scanning handhelds in three bullet points.',
];

/** Identifiers a planner might paste into a prompt: a contact, a phone, an SSN, a street address, an IP. */
const IDENTIFIERS = [
  'If anything changes, contact the site lead at maria.lopez@harbor-freight-logistics.com before noon.',
  'Her desk phone is (415) 867-5309 and she prefers calls to messages.',
  'The driver on the manifest is listed with SSN 512-84-3921, which payroll needs for the overtime claim.',
  'Deliveries go to 1600 Amphitheatre Parkway, Mountain View, CA 94043, gate four.',
  'The depot terminal reported its address as 73.162.11.40 when the sync failed.',
];

/**
 * About `bytes` of ASCII prose. With `identifiers`, the identifier sentences are spread through the
 * text (start, middle and end), where a scanner has to find them rather than at one end.
 */
export function promptText(o: { bytes?: number; identifiers?: boolean } = {}): string {
  const size = o.bytes ?? PROMPT_BYTES;
  const extra = o.identifiers ? IDENTIFIERS : [];
  const parts: string[] = [];
  let len = 0;
  let i = 0;
  let k = 0;
  const every = extra.length ? Math.max(1, Math.floor(size / 90 / (extra.length + 1))) : Infinity;
  while (len < size) {
    const s = (k < extra.length && i > 0 && i % every === 0) ? extra[k++]! : SENTENCES[i % SENTENCES.length]!;
    parts.push(s);
    len += s.length + 1;
    i++;
  }
  const text = parts.join(' ');
  // Identifiers that did not fit are appended in place of trailing prose, so the size stays put.
  const rest = extra.slice(k).join(' ');
  return rest ? text.slice(0, Math.max(0, size - rest.length - 1)) + ' ' + rest : text.slice(0, size);
}

/** How many identifier sentences promptText({identifiers: true}) plants. */
export const PLANTED_IDENTIFIERS = IDENTIFIERS.length;

/** The neutral request the gateway builds from a one-turn OpenAI chat call. */
export function chatRequestOf(text: string, model = 'bench'): ChatRequest {
  return { model, stream: false, messages: [{ role: 'user', content: [{ type: 'text', text }] }] };
}

/** The OpenAI wire body for the same call. */
export function chatBodyOf(text: string, model = 'bench'): string {
  return JSON.stringify({ model, messages: [{ role: 'user', content: text }] });
}

/**
 * A decision entry shaped like the gateway's (src/gateway/record.ts): pseudonym, policy version and
 * commitment are 64 hex digits each, so the canonical bytes are as long as in service (~540 bytes).
 */
export function typicalEntry(i: number): {
  decisionId: string; principal: string; action: string; labels: string[]; top: string; decision: string;
  policyVersion: string; policies: string[]; provider: string; model: string; route: string; requestId: string;
  pii: { total: number; protected: number }; commitment: string;
} {
  const hex = (seed: number) => (seed >>> 0).toString(16).padStart(8, '0').repeat(8);
  return {
    decisionId: `dec_${String(i).padStart(12, '0')}`,
    principal: hex(0x9e3779b9 * ((i % 50) + 1)),
    action: 'chat',
    labels: ['logistics'],
    top: 'logistics',
    decision: 'allow',
    policyVersion: hex(0x5bd1e995),
    policies: ['permit-lawful-uses'],
    provider: 'anthropic',
    model: 'claude-sonnet',
    route: 'default',
    requestId: `req-${String(i).padStart(10, '0')}`,
    pii: { total: i % 3, protected: 0 },
    commitment: hex(0x27d4eb2f ^ i),
  };
}
