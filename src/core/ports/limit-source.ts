import type { QuotaLimits } from "../quotas/quota.js";
import type { CatalogStores } from "./catalog.js";

/**
 * Where a project's limits come from: the catalog (set by admins through Vitrine's API and CLI)
 * or Keystone's unified limits (auth/keystone-limits.ts), as Glance reads them.
 */
export interface LimitSource {
  readonly origin: "catalog" | "keystone";
  /**
   * The limits that hold for a project: its own where set, else the defaults; absent: none. The
   * catalog's are read through `stores` (the caller's transaction, when it holds one).
   */
  limitsFor(projectId: string, stores: CatalogStores): Promise<QuotaLimits>;
}
