// The composition root: Config -> stores -> capabilities -> gateway. Nothing else constructs its own
// collaborators.
import type { FastifyInstance } from 'fastify';
import type { Config } from './config/index.js';
import { buildApp } from './gateway/app.js';
import { createAuthenticator } from './gateway/auth.js';
import { createMetrics } from './gateway/metrics.js';
import { createProvider, defaultBaseUrl, type Provider } from './providers/index.js';
import { createExecutor, createRouteTable } from './routing/index.js';
import { createSqliteStore, generateApiKey, hashApiKey, keyDisplayPrefix, openDatabase, type Store } from './store/index.js';

export interface Gateway {
  app: FastifyInstance;
  store: Store;
  url: string;
  /** The admin key, when this start created it (shown once). */
  createdAdminKey?: string;
  close(): Promise<void>;
}

export async function startGateway(config: Config, o: { listen?: boolean } = {}): Promise<Gateway> {
  const db = openDatabase(config.dataDir);
  const store = createSqliteStore(db);
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
  const routes = createRouteTable(config.routes, config.providers.map((p) => p.name));
  const executor = createExecutor(config.retry, config.circuitBreaker, {
    onUpstreamError: (t, e) => metrics.upstreamErrors.inc({ provider: t.provider, model: t.model, code: e.code }),
  });
  const app = await buildApp({
    store, metrics, routes, executor, providers,
    auth: createAuthenticator(store.keys),
    requests: store.requests,
    storeContent: config.server.storeContent,
    bodyLimitBytes: config.server.bodyLimitBytes,
    timeoutsOf: (name) => timeouts.get(name)!,
    ready: async () => (await store.keys.countKeys()) >= 0,
    logger: { level: config.logLevel },
  });
  let url = '';
  if (o.listen !== false) {
    url = await app.listen({ host: config.server.host, port: config.server.port });
  }
  return {
    app, store, url,
    ...(createdAdminKey !== undefined && { createdAdminKey }),
    async close() {
      await app.close();
      for (const p of providers.values()) await p.close?.();
      await store.close();
    },
  };
}

/**
 * The first start needs one key to administer the rest. REDLINE_ADMIN_KEY pins it (handy for scripts
 * and containers); otherwise one is generated when the store has no key at all and returned once.
 */
export async function bootstrapAdmin(store: Store, pinned: string | undefined): Promise<string | undefined> {
  if (pinned) {
    const hash = hashApiKey(pinned);
    if (await store.keys.findKey(hash)) return undefined;
    const admin = (await store.keys.getPrincipalByName('admin')) ?? (await store.keys.createPrincipal({ name: 'admin', roles: ['admin'] }));
    await store.keys.addKey({ principalId: admin.id, label: 'REDLINE_ADMIN_KEY', hash, prefix: keyDisplayPrefix(pinned) });
    return undefined;
  }
  if ((await store.keys.countKeys()) > 0) return undefined;
  const admin = (await store.keys.getPrincipalByName('admin')) ?? (await store.keys.createPrincipal({ name: 'admin', roles: ['admin'] }));
  const key = generateApiKey();
  await store.keys.addKey({ principalId: admin.id, label: 'first start', hash: hashApiKey(key), prefix: keyDisplayPrefix(key) });
  return key;
}
