import type { QuotaLimits } from "../quotas/quota.js";

/**
 * Where a project's limits come from: the catalog (set by admins through Vitrine's API and CLI)
 * or Keystone's unified limits (auth/keystone-limits.ts), as Glance reads them.
 */
export interface LimitSource {
  readonly origin: "catalog" | "keystone";
  /**
   * The limits that hold for a project: its own where set, else the defaults; absent: none.
   * Asked before a transaction opens, never inside one: Keystone's answer may take a while, and a
   * transaction held open meanwhile would hold the catalog (all of it, on SQLite).
   */
  limitsFor(projectId: string): Promise<QuotaLimits>;
}
