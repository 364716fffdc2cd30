// Tries a route's targets in order: retries with exponential backoff and full jitter on retryable
// failures (honouring Retry-After), skips targets whose circuit is open, and falls back to the next
// target. For streams the attempt includes the first event, so fallback never happens after a byte
// has reached the client.
import { setTimeout as sleep } from 'node:timers/promises';
import { RedlineError, isRedlineError } from '../errors.js';
import { CircuitBreaker, type BreakerState } from './breaker.js';
import type { Route, Target } from './route.js';

export interface RetryPolicy { maxAttempts: number; baseDelayMs: number; maxDelayMs: number; maxRetryAfterMs: number }
export interface BreakerPolicy { failureThreshold: number; cooldownMs: number }

export interface AttemptReport { target: Target; error?: RedlineError; skipped?: 'circuit_open' | 'excluded' }

export interface ExecuteResult<T> { value: T; target: Target; targetIndex: number; attempts: number; trail: AttemptReport[] }

export interface Executor {
  /**
   * Runs `attempt` against the targets of `route` starting at `firstIndex`; `allowed(i)` lets policy
   * exclude targets whose terms forbid the use.
   */
  execute<T>(route: Route, attempt: (t: Target) => Promise<T>, o: { signal: AbortSignal; firstIndex?: number; allowed?: (i: number) => boolean }): Promise<ExecuteResult<T>>;
  breakerStates(): Array<{ provider: string; model: string; state: BreakerState }>;
}

export interface ExecutorHooks { onUpstreamError?(t: Target, e: RedlineError): void }

export function createExecutor(retry: RetryPolicy, breakerPolicy: BreakerPolicy, hooks: ExecutorHooks = {}): Executor {
  const breakers = new Map<string, { target: Target; breaker: CircuitBreaker }>();
  const breakerFor = (t: Target) => {
    const key = `${t.provider}\u0000${t.model}`;
    let b = breakers.get(key);
    if (!b) breakers.set(key, (b = { target: t, breaker: new CircuitBreaker(breakerPolicy) }));
    return b.breaker;
  };

  return {
    async execute(route, attempt, o) {
      const trail: AttemptReport[] = [];
      let attempts = 0;
      let last: RedlineError | undefined;
      for (let i = o.firstIndex ?? 0; i < route.targets.length; i++) {
        const target = route.targets[i]!;
        if (o.allowed && !o.allowed(i)) { trail.push({ target, skipped: 'excluded' }); continue; }
        const breaker = breakerFor(target);
        for (let n = 0; n < retry.maxAttempts; n++) {
          if (!breaker.allow()) { trail.push({ target, skipped: 'circuit_open' }); break; }
          attempts++;
          try {
            const value = await attempt(target);
            breaker.success();
            return { value, target, targetIndex: i, attempts, trail };
          } catch (err) {
            const e = isRedlineError(err) ? err : new RedlineError('UPSTREAM_FAILED', (err as Error)?.message ?? 'upstream failed', { details: { retryable: true }, cause: err });
            if (o.signal.aborted || e.details?.clientAborted) {
              // No verdict on the target: a half-open trial slot must not stay claimed forever.
              breaker.release();
              throw e;
            }
            trail.push({ target, error: e });
            hooks.onUpstreamError?.(target, e);
            if (e.details?.targetFault === true) {
              // The target cannot serve anyone (e.g. it refuses redline's key): no retry here, on to the next.
              breaker.failure();
              last = e;
              break;
            }
            if (e.details?.retryable !== true) {
              // The upstream understood and refused the request itself: another target would too.
              breaker.success();
              throw e;
            }
            breaker.failure();
            last = e;
            const retryAfterMs = e.retryAfter !== undefined ? e.retryAfter * 1000 : undefined;
            if (retryAfterMs !== undefined && retryAfterMs > retry.maxRetryAfterMs) break;
            if (n + 1 >= retry.maxAttempts) break;
            const backoff = Math.random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** n);
            await sleep(Math.max(backoff, retryAfterMs ?? 0), undefined, { signal: o.signal }).catch(() => {});
            if (o.signal.aborted) throw new RedlineError('UPSTREAM_FAILED', 'client went away', { details: { clientAborted: true } });
          }
        }
      }
      if (last) throw last;
      // Retry-After: when the first open circuit lets a trial through (at least a second).
      const waits = trail.filter((t) => t.skipped === 'circuit_open').map((t) => breakerFor(t.target).msUntilTrial());
      const retryAfter = waits.length > 0 ? Math.max(1, Math.ceil(Math.min(...waits) / 1000)) : undefined;
      throw new RedlineError('UPSTREAM_UNAVAILABLE', `no target of '${route.alias}' is available (circuits open or excluded)`, {
        details: { trail: trail.map((t) => `${t.target.provider}/${t.target.model}: ${t.skipped ?? t.error?.code}`) },
        ...(retryAfter !== undefined && { retryAfter }),
      });
    },
    breakerStates() {
      return [...breakers.values()].map(({ target, breaker }) => ({ provider: target.provider, model: target.model, state: breaker.current() }));
    },
  };
}
