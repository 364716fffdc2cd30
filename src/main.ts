// The composition root: Config -> stores -> capabilities -> gateway. Nothing else constructs its own
// collaborators.
import type { FastifyInstance } from 'fastify';
import { join } from 'node:path';
import type { Config } from './config/index.js';
import { createBulkTracker, createGuardStage, loadClassifier } from './classify/index.js';
import { buildApp, createAssessor, createAuthenticator, createMetrics, redlineRoutes, ledgerRoutes, approvalRoutes, pseudonymizer, createGate } from './gateway/index.js';
import { createApprovalService, type ApprovalService } from './approvals/index.js';
import { createLedger, startLedgerThread, loadOrCreateSigningKey, readVerifierKeys, type Ledger } from './ledger/index.js';
import { createPolicyEngine, DEFAULT_POLICY_DIR, newDecisionId, type ReloadResult } from './policy/index.js';
import { createProvider, defaultBaseUrl, type Provider } from './providers/index.js';
import { createExecutor, createRouteTable } from './routing/index.js';
import {
  createSqliteSketchStore, createSqliteStore, generateApiKey, hashApiKey, keyChangeEvent, keyDisplayPrefix, loadOrCreateSecret, openDatabase, startCheckpointer, type Store,
} from './store/index.js';

export interface Gateway {
  app: FastifyInstance;
  store: Store;
  url: string;
  /** The admin key, when this start created it (shown once). */
  createdAdminKey?: string;
  ledger: Ledger;
  approvals: ApprovalService;
  reloadPolicy(trigger: string): Promise<ReloadResult>;
  close(): Promise<void>;
}

export async function startGateway(config: Config, o: { listen?: boolean } = {}): Promise<Gateway> {
  const db = openDatabase(config.dataDir);
  const store = createSqliteStore(db);
  const secret = loadOrCreateSecret(config.dataDir);
  const createdAdminKey = await bootstrapAdmin(store, config.adminKey);
  const metrics = createMetrics();

  const providers = new Map<string, Provider>();
  for (const p of config.providers) {
    providers.set(p.name, createProvider({
      name: p.name, kind: p.kind, baseUrl: p.baseUrl ?? defaultBaseUrl(p.kind), timeouts: p.timeouts,
      ...(p.apiKey !== undefined && { apiKey: p.apiKey }), ...(p.headers !== undefined && { headers: p.headers }),
    }));
  }
  const timeouts = new Map(config.providers.map((p) => [p.name, p.timeouts]));
  const terms = new Map(config.providers.map((p) => [p.name, { name: p.terms?.name ?? p.name, forbiddenUses: [...(p.terms?.forbiddenUses ?? [])] }]));
  const routes = createRouteTable(config.routes, config.providers.map((p) => p.name));
  const executor = createExecutor(config.retry, config.circuitBreaker, {
    onUpstreamError: (t, e) => metrics.upstreamErrors.inc({ provider: t.provider, model: t.model, code: e.code }),
  });

  const classifier = loadClassifier();
  const bulk = createBulkTracker({ secret, windowSeconds: config.bulk.windowSeconds, store: createSqliteSketchStore(db) });
  const bulkFlush = setInterval(() => bulk.flush(), 5_000).unref();
  const guardCfg = config.classifier.guard;
  const assessor = createAssessor({
    classifier, bulk,
    threshold: config.classifier.threshold,
    includeToolResults: config.classifier.includeToolResults,
    pii: { country: config.pii.country, protectedCidrs: [...config.pii.protectedCidrs] },
    ...(guardCfg && { guard: createGuardStage({ url: guardCfg.url, model: guardCfg.model, timeoutMs: guardCfg.timeoutMs, ...(config.guardApiKey && { apiKey: config.guardApiKey }) }) }),
  });
  const engine = createPolicyEngine({ dir: config.policy.dir ?? DEFAULT_POLICY_DIR });

  // Signing keys live in files beside the database (mode 0600), never in it.
  const ledgerKeyDir = join(config.dataDir, 'ledger');
  const ledgerKey = loadOrCreateSigningKey(ledgerKeyDir, config.ledger.origin);
  const ledgerOptions = { db, signer: ledgerKey, verifiers: readVerifierKeys(ledgerKeyDir), synchronous: config.ledger.synchronous, commitmentSecret: secret };
  const ledger = config.ledger.thread ? await startLedgerThread(ledgerOptions) : createLedger(ledgerOptions);
  const receiptKey = loadOrCreateSigningKey(join(config.dataDir, 'receipts'), `${config.ledger.origin}/receipts`);
  // Approval entries name principals by raw id; the public log gets pseudonyms only.
  const pseudonym = pseudonymizer(secret);
  const pseudonymise = (v: unknown) => (typeof v === 'string' ? pseudonym(v) : Array.isArray(v) ? v.map((x) => pseudonym(String(x))) : v);
  const approvals = createApprovalService({
    db, signingKey: receiptKey, keyName: receiptKey.name,
    ledgerAppend: (entry) => ledger.append({
      ...entry,
      principal: pseudonymise(entry.principal),
      ...(entry.approvers !== undefined && { approvers: pseudonymise(entry.approvers) }),
      ...(entry.deniedBy !== undefined && { deniedBy: pseudonymise(entry.deniedBy) }),
    } as Parameters<Ledger['append']>[0]),
    receiptTtlSeconds: config.tools.receiptTtlSeconds,
    ...(config.tools.webhook && config.webhookSecret && { webhook: { url: config.tools.webhook.url, secret: config.webhookSecret } }),
    ...(config.publicUrl && { publicUrl: config.publicUrl }),
  });

  const declared = new Map(config.tools.declared.map((t) => [t.name, t]));
  const gate = createGate({
    approvals, engine, ledger,
    requestHold: { ...config.policy.hold, roles: [...config.policy.hold.roles] },
    pseudonym,
    publicUrl: config.publicUrl ?? '',
    keepAliveMs: config.tools.keepAliveSeconds * 1000,
    tools: {
      effectOf: (name) => declared.get(name)?.effect ?? config.tools.defaultEffect,
      modeOf: (name) => declared.get(name)?.mode,
      requirementOf: (effect) => config.tools.approvals[effect],
    },
  });

  let app: FastifyInstance;
  // Audit events queued by other processes (key changes from the CLI) enter the ledger here.
  const drainAudit = () => store.audit.drain((e) => ledger.append({ ...e, principal: pseudonym(String(e.principal ?? 'cli')) } as Parameters<Ledger['append']>[0]))
    .catch((err) => app?.log.error({ err }, 'audit outbox could not be moved into the ledger; retrying'));
  await drainAudit();
  const auditTimer = setInterval(() => void drainAudit(), 2_000).unref();

  const reloadPolicy = async (trigger: string): Promise<ReloadResult> => {
    const r = engine.reload();
    // Recorded whatever the outcome; a ledger that cannot take the entry is logged, not thrown, so a
    // file-watch or SIGHUP reload can never take the process down.
    await ledger.append({
      decisionId: newDecisionId(), principal: pseudonym(trigger), action: 'policy_reload',
      decision: 'policy_reload', labels: [], outcome: r.ok ? 'loaded' : 'rejected', policyVersion: r.ok ? r.version : engine.version,
    }).catch((err) => app.log.error({ err, trigger }, 'policy reload could not be recorded in the ledger'));
    if (r.ok) app.log.info({ trigger, version: r.version }, 'policy set loaded');
    else app.log.error({ trigger, errors: r.errors, active: engine.version }, 'policy set rejected; the previous one stays active');
    return r;
  };

  app = await buildApp({
    store, metrics, routes, executor, providers, assessor, gate,
    record: { ledger, pseudonym, commitBefore: config.ledger.commitBefore },
    policy: { engine, termsOf: (name) => terms.get(name) ?? { name, forbiddenUses: [] }, bulkWindowSeconds: config.bulk.windowSeconds },
    auth: createAuthenticator(store.keys),
    requests: store.requests,
    storeContent: config.server.storeContent,
    bodyLimitBytes: config.server.bodyLimitBytes,
    timeoutsOf: (name) => timeouts.get(name)!,
    ready: async () => (await store.keys.countKeys()) >= 0,
    logger: { level: config.logLevel },
    authenticatedRoutes: [
      (api) => redlineRoutes(api, { classifier, policy: engine, reloadPolicy }),
      (api) => approvalRoutes(api, { approvals }),
    ],
    publicRoutes: [(pub) => ledgerRoutes(pub, { ledger })],
  });
  const checkpointer = startCheckpointer(db, { onProblem: (message) => app.log.warn(message) });
  const stopWatch = config.policy.watch ? engine.watch(() => void reloadPolicy('file change')) : () => {};

  let url = '';
  if (o.listen !== false) url = await app.listen({ host: config.server.host, port: config.server.port });
  return {
    app, store, url, reloadPolicy, ledger, approvals,
    ...(createdAdminKey !== undefined && { createdAdminKey }),
    async close() {
      stopWatch();
      clearInterval(bulkFlush);
      clearInterval(auditTimer);
      await app.close();
      bulk.flush();
      await approvals.close();
      await ledger.close();
      for (const p of providers.values()) await p.close?.();
      await checkpointer.stop();
      await store.close();
    },
  };
}

/** The label of the key REDLINE_ADMIN_KEY pins. */
const PINNED_LABEL = 'REDLINE_ADMIN_KEY';

/**
 * The first start needs one key to administer the rest. REDLINE_ADMIN_KEY pins it (handy for scripts
 * and containers); otherwise one is generated when the store has no key at all and returned once.
 */
export async function bootstrapAdmin(store: Store, pinned: string | undefined): Promise<string | undefined> {
  if (pinned) {
    const hash = hashApiKey(pinned);
    if (await store.keys.findKey(hash)) return undefined;
    const admin = (await store.keys.getPrincipalByName('admin')) ?? (await store.keys.createPrincipal({ name: 'admin', roles: ['admin'] }));
    // A new pinned key replaces the one pinned before: changing the variable is how an operator
    // rotates the admin key, and the old one must stop working.
    for (const k of await store.keys.listKeys()) {
      if (k.label !== PINNED_LABEL || k.revokedAt !== null) continue;
      const revoked = await store.keys.revokeKey(k.id);
      if (revoked) await store.audit.add(keyChangeEvent('key_revoked', revoked.id, revoked.principalId));
    }
    const info = await store.keys.addKey({ principalId: admin.id, label: PINNED_LABEL, hash, prefix: keyDisplayPrefix(pinned) });
    await store.audit.add(keyChangeEvent('key_created', info.id, admin.id));
    return undefined;
  }
  if ((await store.keys.countKeys()) > 0) return undefined;
  const admin = (await store.keys.getPrincipalByName('admin')) ?? (await store.keys.createPrincipal({ name: 'admin', roles: ['admin'] }));
  const key = generateApiKey();
  await store.keys.addKey({ principalId: admin.id, label: 'first start', hash: hashApiKey(key), prefix: keyDisplayPrefix(key) });
  return key;
}
