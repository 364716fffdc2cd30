// One error type for every capability, and one catalogue of codes with their HTTP status.
// Capabilities throw RedlineError; only gateway/errors.ts turns it into a wire-format response.

export const ERROR_CATALOGUE = {
  INVALID_REQUEST: { status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  INVALID_JSON: { status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  BODY_TOO_LARGE: { status: 413, openaiType: 'invalid_request_error', anthropicType: 'request_too_large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  AUTH_FAILED: { status: 401, openaiType: 'authentication_error', anthropicType: 'authentication_error' },
  FORBIDDEN: { status: 403, openaiType: 'permission_error', anthropicType: 'permission_error' },
  NOT_FOUND: { status: 404, openaiType: 'invalid_request_error', anthropicType: 'not_found_error' },
  METHOD_NOT_ALLOWED: { status: 405, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  MODEL_NOT_FOUND: { status: 404, openaiType: 'invalid_request_error', anthropicType: 'not_found_error' },
  POLICY_DENIED: { status: 403, openaiType: 'permission_error', anthropicType: 'permission_error' },
  APPROVAL_REQUIRED: { status: 403, openaiType: 'permission_error', anthropicType: 'permission_error' },
  APPROVAL_EXPIRED: { status: 410, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  CONFLICT: { status: 409, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  RATE_LIMITED: { status: 429, openaiType: 'rate_limit_error', anthropicType: 'rate_limit_error' },
  UPSTREAM_REJECTED: { status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error' },
  UPSTREAM_FAILED: { status: 502, openaiType: 'api_error', anthropicType: 'api_error' },
  UPSTREAM_TIMEOUT: { status: 504, openaiType: 'api_error', anthropicType: 'api_error' },
  UPSTREAM_UNAVAILABLE: { status: 503, openaiType: 'api_error', anthropicType: 'overloaded_error' },
  CLASSIFIER_FAILED: { status: 503, openaiType: 'api_error', anthropicType: 'api_error' },
  POLICY_FAILED: { status: 503, openaiType: 'api_error', anthropicType: 'api_error' },
  LEDGER_PUSHBACK: { status: 503, openaiType: 'api_error', anthropicType: 'overloaded_error' },
  CONFIG_INVALID: { status: 500, openaiType: 'api_error', anthropicType: 'api_error' },
  INTERNAL: { status: 500, openaiType: 'api_error', anthropicType: 'api_error' },
} as const;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export interface RedlineErrorOptions {
  /** Overrides the catalogue status (e.g. an upstream 4xx passed through). */
  status?: number;
  /** Machine-readable detail safe to show the caller (never prompt text). */
  details?: Record<string, unknown>;
  /** Seconds the caller should wait before retrying (sent as Retry-After). */
  retryAfter?: number;
  /** Request parameter the error is about, for OpenAI's `param` field. */
  param?: string;
  cause?: unknown;
}

export class RedlineError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  readonly retryAfter: number | undefined;
  readonly param: string | undefined;

  constructor(code: ErrorCode, message: string, opts: RedlineErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RedlineError';
    this.code = code;
    this.status = opts.status ?? ERROR_CATALOGUE[code].status;
    this.details = opts.details;
    this.retryAfter = opts.retryAfter;
    this.param = opts.param;
  }
}

export function isRedlineError(e: unknown): e is RedlineError {
  return e instanceof RedlineError;
}
