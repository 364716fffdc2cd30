// A circuit breaker per target: after `failureThreshold` consecutive failures the target is skipped for
// `cooldownMs`; then one trial request is let through (half-open): success closes it, failure reopens it.

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions { failureThreshold: number; cooldownMs: number; now?: () => number }

export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private state: BreakerState = 'closed';
  private trialInFlight = false;
  private readonly now: () => number;

  constructor(private readonly o: BreakerOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Whether a request may go to this target now. Claims the half-open trial slot when it says yes. */
  allow(): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') {
      if (this.now() - this.openedAt < this.o.cooldownMs) return false;
      this.state = 'half_open';
      this.trialInFlight = false;
    }
    if (this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.state = 'closed';
    this.trialInFlight = false;
  }

  /** An attempt that ended without a verdict on the target (the client left): frees the trial slot. */
  release(): void {
    this.trialInFlight = false;
  }

  /** While open: how long until a trial request is let through. */
  msUntilTrial(): number {
    return this.state === 'open' ? Math.max(0, this.o.cooldownMs - (this.now() - this.openedAt)) : 0;
  }

  failure(): void {
    this.failures++;
    if (this.state === 'half_open' || this.failures >= this.o.failureThreshold) {
      this.state = 'open';
      this.openedAt = this.now();
      this.trialInFlight = false;
    }
  }

  current(): BreakerState {
    if (this.state === 'open' && this.now() - this.openedAt >= this.o.cooldownMs) return 'half_open';
    return this.state;
  }
}
