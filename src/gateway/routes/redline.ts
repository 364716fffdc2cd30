// redline's own API beside the model APIs: classification, policy status and reload.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { RedlineError } from '../../errors.js';
import type { UseClassifier } from '../../classify/index.js';
import type { PolicyEngine, ReloadResult } from '../../policy/index.js';

export interface RedlineRouteDeps {
  classifier: UseClassifier;
  policy: PolicyEngine;
  /** Reloads the policy set and records the outcome (ledger, logs); the one reload path. */
  reloadPolicy(trigger: string): Promise<ReloadResult>;
}

export function requireRole(request: FastifyRequest, ...roles: string[]): void {
  const have = request.caller?.principal.roles ?? [];
  if (!roles.some((r) => have.includes(r))) throw new RedlineError('FORBIDDEN', `This needs one of the roles: ${roles.join(', ')}.`);
}

const ClassifyBody = z.union([
  z.object({ id: z.unknown().optional(), text: z.string() }),
  z.object({ items: z.array(z.object({ id: z.unknown().optional(), text: z.string() })).min(1).max(1000) }),
]);

export async function redlineRoutes(app: FastifyInstance, deps: RedlineRouteDeps): Promise<void> {
  app.post('/v1/redline/classify', async (request, reply) => {
    const parsed = ClassifyBody.safeParse(request.body);
    if (!parsed.success) throw new RedlineError('INVALID_REQUEST', 'Send {"text": "..."} or {"items": [{"id": ..., "text": "..."}]}.');
    const one = (id: unknown, text: string) => {
      const c = deps.classifier.classifyText(text);
      return { id: id ?? null, top: c.top, scores: c.scores, truncated: c.truncated };
    };
    const body = 'items' in parsed.data
      ? { model_version: deps.classifier.version, results: parsed.data.items.map((i) => one(i.id, i.text)) }
      : { model_version: deps.classifier.version, ...one(parsed.data.id, parsed.data.text) };
    return reply.type('application/json').send(JSON.stringify(body));
  });

  app.get('/v1/redline/policy', async (request) => {
    requireRole(request, 'admin', 'auditor');
    return { version: deps.policy.version, dir: deps.policy.dir, policies: deps.policy.policies() };
  });

  app.post('/v1/redline/policy/reload', async (request, reply) => {
    requireRole(request, 'admin');
    const r = await deps.reloadPolicy(`api:${request.caller!.principal.name}`);
    if (!r.ok) return reply.code(422).send({ error: { message: 'The new policy set was rejected; the previous one stays active.', type: 'invalid_request_error', code: 'policy_invalid', errors: r.errors }, active_version: deps.policy.version });
    return { version: r.version };
  });
}
