import type { CoreDeps } from "../core-deps.js";
import { alreadyExists, notFound } from "../errors.js";
import type { CatalogStores } from "../ports/catalog.js";
import type { Principal } from "../principal.js";
import { assertMayChange, loadNamespace } from "./metadef-access.js";
import {
  checkName,
  type MetadefNamespace,
  type MetadefResourceType,
  type ResourceTypeAssociation,
} from "./metadef.js";

type Deps = Pick<CoreDeps, "catalog">;

export interface AssociationInput {
  name: string;
  prefix?: string | null;
  propertiesTarget?: string | null;
}

export async function listResourceTypes(deps: Deps): Promise<MetadefResourceType[]> {
  return deps.catalog.metadefs.resourceTypes();
}

/**
 * Associates a namespace with a resource type inside a transaction. A type nobody named before is
 * created with it (resource types are other services' names; this service has no list of its own).
 */
export async function addAssociation(
  tx: CatalogStores,
  ns: MetadefNamespace,
  input: AssociationInput,
  now: number,
): Promise<ResourceTypeAssociation> {
  const name = checkName("name", input.name);
  if (!(await tx.metadefs.findResourceType(name))) {
    await tx.metadefs.insertResourceType({ name, protected: false, createdAt: now, updatedAt: now });
  }
  if ((await tx.metadefs.associations(ns.id)).some((a) => a.name === name)) {
    throw alreadyExists(
      `The metadata definition resource-type association of resource-type=${name} to namespace=${ns.namespace}, already exists.`,
    );
  }
  const association: ResourceTypeAssociation = {
    name,
    prefix: input.prefix ?? null,
    propertiesTarget: input.propertiesTarget ?? null,
    createdAt: now,
    updatedAt: now,
  };
  await tx.metadefs.associate(ns.id, association);
  await tx.metadefs.touchNamespace(ns.id, now);
  return association;
}

export async function listAssociations(
  deps: Deps,
  principal: Principal,
  namespace: string,
): Promise<ResourceTypeAssociation[]> {
  const ns = await loadNamespace(deps.catalog, principal, namespace);
  return deps.catalog.metadefs.associations(ns.id);
}

export async function associate(
  deps: Deps,
  principal: Principal,
  namespace: string,
  input: AssociationInput,
): Promise<ResourceTypeAssociation> {
  assertMayChange(principal, "add_metadef_resource_type_association");
  return deps.catalog.transaction(async (tx) =>
    addAssociation(tx, await loadNamespace(tx, principal, namespace), input, Date.now()),
  );
}

export async function dissociate(
  deps: Deps,
  principal: Principal,
  namespace: string,
  resourceType: string,
): Promise<void> {
  assertMayChange(principal, "remove_metadef_resource_type_association");
  await deps.catalog.transaction(async (tx) => {
    const ns = await loadNamespace(tx, principal, namespace);
    if (!(await tx.metadefs.dissociate(ns.id, resourceType))) {
      throw notFound(
        `The metadata definition resource-type association of resource-type=${resourceType} to namespace=${ns.namespace}, was not found.`,
      );
    }
    await tx.metadefs.touchNamespace(ns.id, Date.now());
  });
}
