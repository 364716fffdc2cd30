// The one place where errors become HTTP responses, in the shape of the API the client speaks.
import { ERROR_CATALOGUE, RedlineError, isRedlineError } from '../errors.js';

export type ApiFlavour = 'openai' | 'anthropic';

/** Turns anything thrown into a RedlineError, recognising Fastify's body-parsing errors. */
export function normaliseError(err: unknown): RedlineError {
  if (isRedlineError(err)) return err;
  const e = err as { code?: string; statusCode?: number; message?: string } | undefined;
  const code = e?.code ?? '';
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e?.statusCode === 413) return new RedlineError('BODY_TOO_LARGE', 'Request body is larger than this gateway accepts.');
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e?.statusCode === 415) return new RedlineError('UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json.');
  if (code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return new RedlineError('INVALID_JSON', 'The request body is empty; send a JSON object.');
  if (code.startsWith('FST_ERR_CTP') || err instanceof SyntaxError || (e?.statusCode === 400 && /JSON/i.test(e?.message ?? ''))) {
    return new RedlineError('INVALID_JSON', 'The request body is not valid JSON.');
  }
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) return new RedlineError('INVALID_REQUEST', e.message ?? 'bad request', { status: e.statusCode });
  return new RedlineError('INTERNAL', 'Internal error in the gateway.', { cause: err });
}

/** OpenAI's error object: {"error": {"message", "type", "param", "code"}}. */
export function openAIErrorBody(e: RedlineError): Record<string, unknown> {
  return {
    error: {
      message: e.message,
      type: ERROR_CATALOGUE[e.code].openaiType,
      param: e.param ?? null,
      code: e.code.toLowerCase(),
      ...(e.details && publicDetails(e.details)),
    },
  };
}

/** Anthropic's error object: {"type": "error", "error": {"type", "message"}}. */
export function anthropicErrorBody(e: RedlineError): Record<string, unknown> {
  return {
    type: 'error',
    error: { type: ERROR_CATALOGUE[e.code].anthropicType, message: e.message, code: e.code.toLowerCase(), ...(e.details && publicDetails(e.details)) },
  };
}

export function errorBody(flavour: ApiFlavour, e: RedlineError): Record<string, unknown> {
  return flavour === 'anthropic' ? anthropicErrorBody(e) : openAIErrorBody(e);
}

/** Details the caller may see: redline's own (decision id, reasons), never internals such as causes. */
function publicDetails(d: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ['decision_id', 'reasons', 'policies', 'policy_version', 'approval_id', 'status_url', 'provider', 'upstream_status', 'issues', 'reason', 'status', 'roles', 'stage']) {
    if (d[k] !== undefined) out[k] = d[k];
  }
  return out;
}
