import type { CoreDeps } from "../core-deps.js";
import { authorize } from "../access.js";
import { failedPrecondition, invalidArgument, permissionDenied } from "../errors.js";
import type { Principal } from "../principal.js";
import { limitsIn } from "./catalog-limits.js";
import { QUOTA_RESOURCES, type QuotaLimits, type QuotaResource, isQuotaResource } from "./quota.js";

/** A project's quota as reports show it: each resource's limit (null: none) and usage. */
export interface ProjectQuota {
  projectId: string;
  /** Where the limits come from: set in Vitrine (catalog) or Keystone's unified limits. */
  origin: "catalog" | "keystone";
  resources: Record<QuotaResource, { limit: number | null; usage: number }>;
}

/** A project's limits (from its source) and usage (from the catalog), as reports show them. */
async function quotaOf(deps: Pick<CoreDeps, "catalog" | "limits">, projectId: string): Promise<ProjectQuota> {
  const limits = await deps.limits.limitsFor(projectId);
  const usage = await deps.catalog.quotas.usage(projectId);
  const resources = Object.fromEntries(
    QUOTA_RESOURCES.map((r) => [r, { limit: limits[r] ?? null, usage: usage[r] }]),
  ) as ProjectQuota["resources"];
  return { projectId, origin: deps.limits.origin, resources };
}

/** A project's limits and usage: for its members (who may list its images) and admins. */
export async function getProjectQuota(
  deps: Pick<CoreDeps, "catalog" | "limits">,
  principal: Principal,
  projectId: string,
): Promise<ProjectQuota> {
  authorize(principal, "images.list", projectId);
  return quotaOf(deps, projectId);
}

/** What `listProjectQuotas` answers: the defaults, and each project with limits or images. */
export interface QuotaOverview {
  origin: ProjectQuota["origin"];
  /** The limits every project has unless it has its own (catalog mode; empty in Keystone mode). */
  defaults: QuotaLimits;
  projects: ProjectQuota[];
  /** More projects hold images than were listed. */
  truncated: boolean;
}

/** The limits every project has unless it has its own (none kept by Vitrine in Keystone mode). */
export async function getQuotaDefaults(
  deps: Pick<CoreDeps, "catalog" | "limits">,
  principal: Principal,
): Promise<{ origin: ProjectQuota["origin"]; defaults: QuotaLimits }> {
  assertAdmin(principal);
  const records = deps.limits.origin === "catalog" ? await deps.catalog.quotas.limits() : [];
  return { origin: deps.limits.origin, defaults: limitsIn(records, null) };
}

/**
 * The service's quotas for admins: the defaults, and the projects that have limits of their own
 * or hold images (at most `max`), each with its usage.
 */
export async function listProjectQuotas(
  deps: Pick<CoreDeps, "catalog" | "limits">,
  principal: Principal,
  max: number,
): Promise<QuotaOverview> {
  assertAdmin(principal);
  const { catalog } = deps;
  const records = deps.limits.origin === "catalog" ? await catalog.quotas.limits() : [];
  const defaults = limitsIn(records, null);
  const named = new Set(records.flatMap((r) => (r.projectId === null ? [] : [r.projectId])));
  const holding = await catalog.quotas.projects(max + 1);
  const ids = [...new Set([...named, ...holding.slice(0, max)])].sort();
  const projects: ProjectQuota[] = [];
  for (const id of ids) projects.push(await quotaOf(deps, id));
  return { origin: deps.limits.origin, defaults, projects, truncated: holding.length > max };
}

/**
 * Sets (or, with null, removes) limits: of one project, or the defaults (projectId null). All of
 * them or none: every limit is checked before any is written, and they are written together.
 * Admins only, and only where Vitrine keeps the limits: in Keystone mode they are Keystone's.
 */
export async function setProjectLimits(
  deps: Pick<CoreDeps, "catalog" | "limits">,
  principal: Principal,
  projectId: string | null,
  limits: Record<string, number | null>,
): Promise<void> {
  assertAdmin(principal);
  if (deps.limits.origin === "keystone") {
    throw failedPrecondition(
      "Limits come from Keystone's unified limits in this deployment: set them with " +
        "`openstack registered limit create --service glance ...` or `openstack limit create ...`",
    );
  }
  if (projectId !== null && projectId.trim() === "") {
    throw invalidArgument("The project must be named", [{ field: "projectId", description: "is empty" }]);
  }
  const entries = Object.entries(limits);
  if (entries.length === 0) {
    throw invalidArgument("Name at least one limit to set", [{ field: "limits", description: "is empty" }]);
  }
  for (const [resource, value] of entries) {
    if (!isQuotaResource(resource)) {
      throw invalidArgument(`Unknown quota ${resource}: one of ${QUOTA_RESOURCES.join(", ")}`, [
        { field: `limits.${resource}`, description: `must be one of ${QUOTA_RESOURCES.join(", ")}` },
      ]);
    }
    if (value !== null && (!Number.isSafeInteger(value) || value < 0)) {
      throw invalidArgument(`The limit of ${resource} must be a whole number, 0 or more`, [
        { field: `limits.${resource}`, description: "must be a whole number, 0 or more" },
      ]);
    }
  }
  await deps.catalog.transaction(async (tx) => {
    for (const [resource, value] of entries) {
      await tx.quotas.setLimit(projectId, resource as QuotaResource, value);
    }
  });
}

function assertAdmin(principal: Principal): void {
  if (!principal.isAdmin) throw permissionDenied("Only the service admin may manage quotas");
}

/**
 * The quotas of the projects storing the most bytes (at most `max`), for the metrics: their
 * number is bounded so that the label values are (README "Quotas").
 */
export async function largestProjectQuotas(
  deps: Pick<CoreDeps, "catalog" | "limits">,
  max: number,
): Promise<ProjectQuota[]> {
  const projects: ProjectQuota[] = [];
  for (const id of await deps.catalog.quotas.projects(max)) projects.push(await quotaOf(deps, id));
  return projects;
}
