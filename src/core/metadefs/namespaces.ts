import type { CoreDeps } from "../core-deps.js";
import { permissionDenied } from "../errors.js";
import { newUuid } from "../ids.js";
import type { CatalogStores, NamespaceListQuery } from "../ports/catalog.js";
import type { Principal } from "../principal.js";
import { addEntry, type EntryInput } from "./entries.js";
import { assertMayChange, loadNamespace } from "./metadef-access.js";
import {
  checkName,
  type EntryKind,
  type MetadefNamespace,
  type NamespaceDetail,
  type NamespaceVisibility,
} from "./metadef.js";
import { type AssociationInput, addAssociation } from "./resource-types.js";

type Deps = Pick<CoreDeps, "catalog">;

export interface NamespaceInput {
  namespace: string;
  displayName?: string | null;
  description?: string | null;
  visibility?: NamespaceVisibility;
  protected?: boolean;
  /** An admin may name the owning project; by default it is the caller's. */
  owner?: string | null;
}

/** A new namespace may arrive with its content, all created in one transaction. */
export interface CreateNamespaceInput extends NamespaceInput {
  associations?: AssociationInput[];
  entries?: EntryInput[];
}

export interface ListNamespacesInput {
  visibility?: NamespaceVisibility;
  resourceTypes?: string[];
  sortKey: NamespaceListQuery["sortKey"];
  sortDir: NamespaceListQuery["sortDir"];
  /** The namespace after which the page starts. */
  marker?: string;
  limit: number;
}

export async function listNamespaces(
  deps: Deps,
  principal: Principal,
  input: ListNamespacesInput,
): Promise<{
  items: MetadefNamespace[];
  more: boolean;
  associations: Map<string, NamespaceDetail["associations"]>;
}> {
  const { metadefs } = deps.catalog;
  const after = input.marker ? await loadNamespace(deps.catalog, principal, input.marker) : undefined;
  const rows = await metadefs.listNamespaces({
    viewer: { isAdmin: principal.isAdmin, projectId: principal.projectId },
    visibility: input.visibility,
    resourceTypes: input.resourceTypes,
    sortKey: input.sortKey,
    sortDir: input.sortDir,
    after,
    limit: input.limit,
  });
  const items = rows.slice(0, input.limit);
  const associations = await metadefs.associationsOf(items.map((ns) => ns.id));
  return { items, more: rows.length > input.limit, associations };
}

/**
 * A namespace with all it holds. Asked for one resource type, its properties are named as that
 * resource knows them: with the association's prefix (`hw_cpu_policy` for an image, `hw:cpu_policy`
 * for a flavor).
 */
export async function getNamespace(
  deps: Deps,
  principal: Principal,
  name: string,
  resourceType?: string,
): Promise<NamespaceDetail> {
  const { catalog } = deps;
  const ns = await loadNamespace(catalog, principal, name);
  const detail = await namespaceDetail(catalog, ns);
  const prefix = resourceType ? (detail.associations.find((a) => a.name === resourceType)?.prefix ?? "") : "";
  if (!prefix) return detail;
  const prefixed = <T extends { name: string }>(e: T): T => ({ ...e, name: prefix + e.name });
  return {
    ...detail,
    properties: detail.properties.map(prefixed),
    objects: detail.objects.map((o) => ({
      ...o,
      body: { ...o.body, properties: prefixKeys(o.body.properties, prefix) },
    })),
  };
}

function prefixKeys(properties: unknown, prefix: string): unknown {
  if (!properties || typeof properties !== "object") return properties;
  return Object.fromEntries(Object.entries(properties).map(([k, v]) => [prefix + k, v]));
}

async function namespaceDetail(stores: CatalogStores, ns: MetadefNamespace): Promise<NamespaceDetail> {
  const { metadefs } = stores;
  const [associations, objects, properties, tags] = await Promise.all([
    metadefs.associations(ns.id),
    metadefs.listEntries(ns.id, "object"),
    metadefs.listEntries(ns.id, "property"),
    metadefs.listEntries(ns.id, "tag"),
  ]);
  return { ...ns, associations, objects, properties, tags };
}

export async function createNamespace(
  deps: Deps,
  principal: Principal,
  input: CreateNamespaceInput,
): Promise<NamespaceDetail> {
  assertMayChange(principal, "add_metadef_namespace");
  const now = Date.now();
  const ns: MetadefNamespace = {
    id: newUuid(),
    namespace: checkName("namespace", input.namespace),
    displayName: input.displayName ?? null,
    description: input.description ?? null,
    visibility: input.visibility ?? "private",
    protected: input.protected ?? false,
    owner: input.owner ?? (principal.projectId || null),
    createdAt: now,
    updatedAt: now,
  };
  return deps.catalog.transaction(async (tx) => {
    await tx.metadefs.insertNamespace(ns);
    for (const a of input.associations ?? []) await addAssociation(tx, ns, a, now);
    for (const e of input.entries ?? []) await addEntry(tx, ns, e, now);
    return namespaceDetail(tx, ns);
  });
}

/**
 * Replaces a namespace's own fields (its content stays): what the document leaves out returns to
 * its default, as a PUT does — private, unprotected — except the owner, which stays.
 */
export async function updateNamespace(
  deps: Deps,
  principal: Principal,
  name: string,
  input: NamespaceInput,
): Promise<MetadefNamespace> {
  assertMayChange(principal, "modify_metadef_namespace");
  return deps.catalog.transaction(async (tx) => {
    const current = await loadNamespace(tx, principal, name);
    const next: MetadefNamespace = {
      ...current,
      namespace: checkName("namespace", input.namespace),
      displayName: input.displayName ?? null,
      description: input.description ?? null,
      visibility: input.visibility ?? "private",
      protected: input.protected ?? false,
      owner: input.owner === undefined ? current.owner : input.owner,
      updatedAt: Date.now(),
    };
    await tx.metadefs.updateNamespace(next);
    return next;
  });
}

/** Deletes a namespace with everything it holds; a protected one is refused (unprotect it first). */
export async function deleteNamespace(deps: Deps, principal: Principal, name: string): Promise<void> {
  assertMayChange(principal, "delete_metadef_namespace");
  await deps.catalog.transaction(async (tx) => {
    const ns = await loadNamespace(tx, principal, name);
    assertUnprotected(ns);
    await tx.metadefs.deleteNamespace(ns.id);
  });
}

/** Deletes all of one kind of a namespace's entries (its objects, properties or tags). */
export async function clearNamespace(
  deps: Deps,
  principal: Principal,
  name: string,
  kind: EntryKind,
): Promise<void> {
  assertMayChange(principal, `delete_metadef_${kind === "property" ? "properties" : `${kind}s`}`);
  await deps.catalog.transaction(async (tx) => {
    const ns = await loadNamespace(tx, principal, name);
    assertUnprotected(ns);
    await tx.metadefs.deleteEntries(ns.id, kind);
    await tx.metadefs.touchNamespace(ns.id, Date.now());
  });
}

export function assertUnprotected(ns: MetadefNamespace): void {
  if (ns.protected) {
    throw permissionDenied(`Namespace ${ns.namespace} is protected and cannot be deleted.`);
  }
}
