import { LRUCache } from "lru-cache";

/**
 * Counts failed authentications per source address in fixed windows: past `burst` failures an
 * address is refused until its window ends, whatever it sends, so tokens cannot be guessed at
 * speed. Bounded memory: the least recently seen addresses are forgotten first.
 */
export class FailedAuthLimiter {
  private readonly windows: LRUCache<string, { failures: number; resetAt: number }>;

  constructor(
    private readonly burst: number,
    private readonly windowMs: number,
    maxAddresses = 100_000,
  ) {
    this.windows = new LRUCache({ max: maxAddresses });
  }

  /** How long `address` must wait before it may try again, in ms (0: it may try now). */
  waitFor(address: string, now = Date.now()): number {
    if (this.burst === 0) return 0;
    const w = this.windows.get(address);
    if (!w || w.resetAt <= now || w.failures < this.burst) return 0;
    return w.resetAt - now;
  }

  recordFailure(address: string, now = Date.now()): void {
    if (this.burst === 0) return;
    const w = this.windows.get(address);
    if (!w || w.resetAt <= now) this.windows.set(address, { failures: 1, resetAt: now + this.windowMs });
    else w.failures += 1;
  }
}
