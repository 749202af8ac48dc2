import type { CatalogStores, QuotaLimitRecord } from "../ports/catalog.js";
import type { LimitSource } from "../ports/limit-source.js";
import type { QuotaLimits } from "./quota.js";

/**
 * Limits set by admins in the catalog (Vitrine's quota API and `vitrine quota set`): a project's
 * own limit where it has one, else the default for every project. Read for every decision, so a
 * change holds from the next request on, on every node.
 */
export class CatalogLimits implements LimitSource {
  readonly origin = "catalog";

  constructor(private readonly catalog: Pick<CatalogStores, "quotas">) {}

  async limitsFor(projectId: string): Promise<QuotaLimits> {
    return limitsIn(await this.catalog.quotas.limits(projectId), projectId);
  }
}

/** The limits `records` give a project: the defaults, under the project's own (null: the defaults alone). */
export function limitsIn(records: QuotaLimitRecord[], projectId: string | null): QuotaLimits {
  const limits: QuotaLimits = {};
  for (const r of records) if (r.projectId === null) limits[r.resource] = r.value;
  if (projectId !== null)
    for (const r of records) if (r.projectId === projectId) limits[r.resource] = r.value;
  return limits;
}
