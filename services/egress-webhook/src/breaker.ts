import { sleep } from '@busway/runtime';

/**
 * A circuit breaker per endpoint: after `threshold` failed attempts in a row it opens for `openMs`, and no
 * request goes out; then one request probes (half-open): success closes it, failure opens it again. Callers
 * wait in `admit()` meanwhile, so a dead endpoint costs no delivery attempts and no sockets.
 */
export class CircuitBreaker {
  private failures = 0;
  private tripped = false;
  private openUntilMs = 0;
  private probe?: { done: Promise<void>; end: () => void };

  constructor(
    private readonly threshold: number,
    private readonly openMs: number,
    private readonly onChange: (open: boolean) => void = () => undefined,
  ) {}

  get isOpen(): boolean {
    return Date.now() < this.openUntilMs;
  }

  /** Resolves when a request may go out (at once while closed); early, with false, when `signal` aborts. */
  async admit(signal: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal.aborted) return false;
      const wait = this.openUntilMs - Date.now();
      if (wait > 0) {
        await sleep(wait, signal);
        continue;
      }
      if (this.failures < this.threshold) return true;
      // half-open: one request probes, the others wait for its answer
      if (this.probe) {
        await Promise.race([this.probe.done, sleep(this.openMs, signal)]);
        continue;
      }
      let end!: () => void;
      const done = new Promise<void>((r) => (end = r));
      this.probe = { done, end };
      return true;
    }
  }

  success(): void {
    this.failures = 0;
    this.endProbe();
    if (this.tripped) {
      this.tripped = false;
      this.onChange(false);
    }
  }

  failure(): void {
    this.failures++;
    if (this.failures >= this.threshold) {
      this.openUntilMs = Date.now() + this.openMs;
      if (!this.tripped) {
        this.tripped = true;
        this.onChange(true);
      }
    }
    this.endProbe();
  }

  private endProbe(): void {
    this.probe?.end();
    this.probe = undefined;
  }
}
