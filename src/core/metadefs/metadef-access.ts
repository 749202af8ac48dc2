import { notFound, permissionDenied } from "../errors.js";
import type { CatalogStores } from "../ports/catalog.js";
import type { Principal } from "../principal.js";
import type { MetadefNamespace } from "./metadef.js";

/**
 * Who sees and who changes metadata definitions. Everyone reads public namespaces and their
 * project's private ones; admins read all. Only admins change them: the definitions describe the
 * cloud's hardware and services, which is the operator's to say (Glance's default policy).
 */
export function isVisibleTo(principal: Principal, ns: MetadefNamespace): boolean {
  return (
    principal.isAdmin ||
    ns.visibility === "public" ||
    ns.owner === null ||
    (principal.projectId !== "" && ns.owner === principal.projectId)
  );
}

/** The namespace by name; NOT_FOUND when it is missing or the caller may not see it (its existence stays private). */
export async function loadNamespace(
  stores: CatalogStores,
  principal: Principal,
  name: string,
): Promise<MetadefNamespace> {
  const ns = await stores.metadefs.findNamespace(name);
  if (!ns || !isVisibleTo(principal, ns)) {
    throw notFound(`Metadata definition namespace=${name} was not found.`);
  }
  return ns;
}

/** Refuses a change to the definitions unless the caller is an admin; `action` names it as policies do. */
export function assertMayChange(principal: Principal, action: string): void {
  if (!principal.isAdmin) throw permissionDenied(`You are not authorized to complete ${action} action.`);
}
