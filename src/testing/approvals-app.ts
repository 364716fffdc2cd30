// A small Fastify app serving the approvals API over loopback, with a real approval service on a temp
// SQLite file. Principals are looked up by bearer token: the app stands in for the gateway's authenticator.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type Database from 'better-sqlite3';
import { createApprovalService, type ApprovalService } from '../approvals/index.js';
import { RedlineError } from '../errors.js';
import { approvalRoutes, normaliseError, openAIErrorBody } from '../gateway/index.js';
import { loadOrCreateSigningKey, type SigningKey } from '../ledger/index.js';
import { openDatabase, type Principal } from '../store/index.js';

export interface ApprovalsApp {
  dir: string;
  db: Database.Database;
  key: SigningKey;
  svc: ApprovalService;
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export const testPrincipal = (id: string, roles: string[]): Principal => ({ id, name: id.replace('prn_', ''), roles, attributes: {}, createdAt: '2025-01-01T00:00:00Z' });

export async function startApprovalsApp(principals: Record<string, Principal>, o: { now?: () => number } = {}): Promise<ApprovalsApp> {
  const dir = mkdtempSync(join(tmpdir(), 'redline-approvals-app-'));
  const db = openDatabase(dir);
  const key = loadOrCreateSigningKey(join(dir, 'receipts'), 'redline-receipts');
  let index = 0;
  const svc = createApprovalService({
    db, signingKey: key, keyName: 'redline-receipts', ledgerAppend: async () => ({ index: index++ }), sweepIntervalMs: 60_000,
    ...(o.now && { now: o.now }),
  });
  const app = Fastify();
  app.decorateRequest('caller', undefined);
  app.setErrorHandler((err, _request, reply) => {
    const e = normaliseError(err);
    return reply.code(e.status).send(openAIErrorBody(e));
  });
  app.register(async (api) => {
    api.addHook('onRequest', async (request) => {
      const token = /^Bearer (\w+)$/.exec(request.headers.authorization ?? '')?.[1];
      const p = token ? principals[token] : undefined;
      if (!p) throw new RedlineError('AUTH_FAILED', 'Invalid or revoked API key.');
      request.caller = { principal: p, key: { id: `key_${token}`, principalId: p.id, principalName: p.name, label: '', prefix: 'rl_', createdAt: p.createdAt, revokedAt: null } };
    });
    await approvalRoutes(api, { approvals: svc });
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    dir, db, key, svc, app,
    url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    async close() {
      svc.close();
      await app.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
