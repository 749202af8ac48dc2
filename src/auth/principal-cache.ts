import { LRUCache } from "lru-cache";
import type { Principal } from "../core/principal.js";

/**
 * Callers already checked, by token hash, for a short time and never past the token's own
 * expiry: local tokens (a database read saved on every request) and Keystone's (a round trip).
 * A cache time of 0 turns it off.
 */
export class PrincipalCache {
  private readonly entries: LRUCache<string, Principal> | null;

  constructor(private readonly ttlMs: number) {
    this.entries = ttlMs > 0 ? new LRUCache({ max: 10_000, ttl: ttlMs }) : null;
  }

  get(tokenHash: string): Principal | undefined {
    return this.entries?.get(tokenHash);
  }

  /** Keeps `principal` until the cache time or `expiresAt` (ms; null: no expiry), whichever is first. */
  set(tokenHash: string, principal: Principal, expiresAt: number | null): void {
    const ttl = Math.min(this.ttlMs, expiresAt === null ? Infinity : expiresAt - Date.now());
    if (this.entries && ttl > 0) this.entries.set(tokenHash, principal, { ttl });
  }
}
