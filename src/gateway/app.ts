// The HTTP app: Fastify with the chat routes, health, models and metrics. Errors from anywhere reach
// one error handler, which answers in the shape of the API the path belongs to.
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { RedlineError } from '../errors.js';
import type { Store } from '../store/index.js';
import type { Authenticator } from './auth.js';
import { recordRefused, sendError, type ChatDeps } from './chat.js';
import type { ApiFlavour } from './errors.js';
import { normaliseError } from './errors.js';
import type { Metrics } from './metrics.js';
import { anthropicRoutes } from './routes/anthropic.js';
import { openAIRoutes } from './routes/openai.js';

export interface AppDeps extends ChatDeps {
  store: Store;
  auth: Authenticator;
  metrics: Metrics;
  bodyLimitBytes: number;
  /** Readiness beyond "the process is up": e.g. the store answers. */
  ready(): Promise<boolean>;
  logger?: boolean | object;
  /** Route plugins that need an authenticated caller (redline's own API, approvals). */
  authenticatedRoutes?: Array<(app: FastifyInstance) => Promise<void>>;
  /** Route plugins anyone may read (the transparency log). */
  publicRoutes?: Array<(app: FastifyInstance) => Promise<void>>;
}

/**
 * Request ids: `req_` + 20 characters, URL-safe and fixed length. The first 8 are the time in
 * milliseconds in base 62, the other 12 come from a CSPRNG (71 bits). The time prefix is there for the
 * store: the request log's primary key is this id, and random keys scatter every insert across the
 * whole index (measured with better-sqlite3 at 600k rows: 40 µs per row for random ids, 5 to 7 µs for
 * time-ordered ones, and the gap grows once the index outgrows the page cache). Ids also sort by time.
 * Hand-written rather than a ULID/UUIDv7 package to keep the existing `req_` + 20 alphanumerics form.
 * Random bytes are drawn 4 KiB at a time: one randomBytes call per request showed in profiles.
 */
// ASCII order, so that string order is numeric order for the time prefix.
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const TIME_CHARS = 8; // 62^8 ms is about 6,900 years
let pool = randomBytes(4096);
let poolAt = 0;
let lastMs = -1;
let timePrefix = '';
export function newRequestId(now = Date.now()): string {
  if (now !== lastMs) {
    lastMs = now;
    timePrefix = '';
    for (let i = 0, t = now; i < TIME_CHARS; i++, t = Math.floor(t / 62)) timePrefix = ALPHABET[t % 62]! + timePrefix;
  }
  if (poolAt + 12 > pool.length) { pool = randomBytes(4096); poolAt = 0; }
  let id = 'req_' + timePrefix;
  // 256 is not a multiple of 62: the slight bias toward the first 8 characters does not matter for ids.
  for (let i = 0; i < 12; i++) id += ALPHABET[pool[poolAt++]! % 62];
  return id;
}

const flavourOf = (url: string): ApiFlavour => (url.startsWith('/v1/messages') ? 'anthropic' : 'openai');

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger ?? false,
    // Per-request log lines cost throughput; requests are recorded in the store and in metrics instead.
    logController: new LogController({ disableRequestLogging: true }),
    // One logger for every request rather than a child per request (an allocation on every request):
    // the few lines logged per request name the request id themselves.
    childLoggerFactory: (logger) => logger,
    bodyLimit: deps.bodyLimitBytes,
    genReqId: () => newRequestId(),
    requestIdHeader: false,
    return503OnClosing: true,
    keepAliveTimeout: 65_000,
  });
  app.decorateRequest('caller', undefined);
  app.decorateRequest('recorded', false);
  const chatPaths = new Set(['/v1/chat/completions', '/v1/messages']);

  app.setErrorHandler((err, request, reply) => {
    const e = normaliseError(err);
    if (e.code === 'INTERNAL') request.log.error({ err, requestId: request.id }, 'internal error');
    reply.header('x-request-id', request.id);
    // Refused before the chat handler ran (no valid key, malformed JSON, body over the limit).
    if (chatPaths.has(request.routeOptions.url ?? '')) recordRefused(flavourOf(request.url), request, reply.elapsedTime, e, deps);
    return sendError(reply, flavourOf(request.url), e);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.header('x-request-id', request.id);
    return sendError(reply, flavourOf(request.url), new RedlineError('NOT_FOUND', `No route for ${request.method} ${request.url.split('?')[0]}`));
  });

  // Authentication runs before the body is read, so an unauthenticated caller learns nothing about
  // body validation and cannot make the gateway parse large bodies.
  // Callback hooks, not async ones: an async hook costs a promise and a microtask turn per request,
  // and nearly every request is a cache hit that can go on at once.
  const authenticate = (request: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void) => {
    const hit = deps.auth.cached(request.headers);
    if (hit) {
      request.caller = hit;
      return done();
    }
    deps.auth.authenticate(request.headers).then((caller) => { request.caller = caller; done(); }, done);
  };
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    // Anthropic's API names it `request-id`, and its SDK reads that header (`_request_id`, `requestID`).
    if (request.url.startsWith('/v1/messages')) reply.header('request-id', request.id);
    done();
  });
  // Every body redline reads is JSON: without this, Fastify's built-in text parser would take a
  // text/plain body and the route would report it as "not a JSON object" rather than 415.
  app.removeContentTypeParser('text/plain');
  // Bodies are read as they come; a compressed one would only fail later as "not valid JSON".
  app.addHook('preParsing', (request, _reply, payload, done) => {
    const enc = request.headers['content-encoding'];
    if (enc !== undefined && enc.trim().toLowerCase() !== 'identity') {
      return done(new RedlineError('UNSUPPORTED_MEDIA_TYPE', `content-encoding ${enc} is not supported: send the body uncompressed`), payload);
    }
    done(null, payload);
  });
  // The client-facing paths answer other methods with 405 and the methods they do take, as the
  // providers' APIs do, rather than with the not-found handler's 404.
  for (const [url, allow] of [['/v1/chat/completions', 'POST'], ['/v1/messages', 'POST'], ['/v1/models', 'GET, HEAD']] as const) {
    app.route({
      method: allow === 'POST' ? ['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE'] : ['POST', 'PUT', 'PATCH', 'DELETE'],
      url,
      handler: (request, reply) => {
        reply.header('allow', allow);
        return sendError(reply, flavourOf(request.url), new RedlineError('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${url}; use ${allow.split(',')[0]}`));
      },
    });
  }

  app.register(async (api) => {
    api.addHook('onRequest', authenticate);
    await openAIRoutes(api, deps);
    await anthropicRoutes(api, deps);
    for (const routes of deps.authenticatedRoutes ?? []) await routes(api);
    api.get('/v1/models', async (_request, reply) => {
      const data = deps.routes.aliases().map((id) => ({ id, object: 'model', created: 0, owned_by: 'redline', type: 'model', display_name: id }));
      return reply.type('application/json').send(JSON.stringify({ object: 'list', data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null }));
    });
  });

  for (const routes of deps.publicRoutes ?? []) app.register(routes);
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ok = await deps.ready().catch(() => false);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not_ready' });
  });
  app.get('/metrics', async (_request, reply) => {
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return app;
}
