import type { CoreDeps } from "../core-deps.js";
import { alreadyExists, invalidArgument, notFound, permissionDenied } from "../errors.js";
import type { CatalogStores } from "../ports/catalog.js";
import type { Principal } from "../principal.js";
import { assertMayChange, loadNamespace } from "./metadef-access.js";
import {
  checkName,
  type EntryKind,
  MAX_ENTRIES_PER_KIND,
  MAX_NAME_LENGTH,
  MAX_TAG_NAME_LENGTH,
  type MetadefEntry,
  type MetadefNamespace,
} from "./metadef.js";

type Deps = Pick<CoreDeps, "catalog">;

/** A new or replacing entry: its name and its document without the name. */
export interface EntryInput {
  kind: EntryKind;
  name: string;
  body: Record<string, unknown>;
}

const WORD: Record<EntryKind, { one: string; many: string }> = {
  object: { one: "object", many: "objects" },
  property: { one: "property", many: "properties" },
  tag: { one: "tag", many: "tags" },
};

function entryNotFound(kind: EntryKind, name: string, ns: MetadefNamespace) {
  return notFound(
    `Metadata definition ${WORD[kind].one} not found for name=${name} in namespace=${ns.namespace}.`,
  );
}

function checkEntryName(kind: EntryKind, name: string): string {
  return checkName("name", name, kind === "tag" ? MAX_TAG_NAME_LENGTH : MAX_NAME_LENGTH);
}

/** Adds one entry to a namespace inside a transaction (bounded per kind; ALREADY_EXISTS on a taken name). */
export async function addEntry(
  tx: CatalogStores,
  ns: MetadefNamespace,
  input: EntryInput,
  now: number,
): Promise<MetadefEntry> {
  const entry: MetadefEntry = {
    kind: input.kind,
    name: checkEntryName(input.kind, input.name),
    body: input.body,
    createdAt: now,
    updatedAt: now,
  };
  if ((await tx.metadefs.countEntries(ns.id, input.kind)) >= MAX_ENTRIES_PER_KIND) {
    throw invalidArgument(
      `A namespace holds at most ${MAX_ENTRIES_PER_KIND} ${WORD[input.kind].many}; namespace=${ns.namespace} is full.`,
    );
  }
  await tx.metadefs.insertEntry(ns.id, entry);
  await tx.metadefs.touchNamespace(ns.id, now);
  return entry;
}

export async function listEntries(
  deps: Deps,
  principal: Principal,
  namespace: string,
  kind: EntryKind,
): Promise<MetadefEntry[]> {
  const ns = await loadNamespace(deps.catalog, principal, namespace);
  return deps.catalog.metadefs.listEntries(ns.id, kind);
}

/**
 * One entry. A property may be asked for as one resource type names it (`hw_cpu_policy` for
 * `OS::Glance::Image`): the association's prefix is taken off first, and put back on the answer.
 */
export async function getEntry(
  deps: Deps,
  principal: Principal,
  namespace: string,
  kind: EntryKind,
  name: string,
  resourceType?: string,
): Promise<MetadefEntry> {
  const { metadefs } = deps.catalog;
  const ns = await loadNamespace(deps.catalog, principal, namespace);
  let prefix = "";
  if (resourceType) {
    const association = (await metadefs.associations(ns.id)).find((a) => a.name === resourceType);
    prefix = association?.prefix ?? "";
    if (prefix && !name.startsWith(prefix)) {
      throw notFound(
        `Property ${name} does not start with the prefix '${prefix}' of resource type ${resourceType}.`,
      );
    }
  }
  const entry = await metadefs.findEntry(ns.id, kind, name.slice(prefix.length));
  if (!entry) throw entryNotFound(kind, name, ns);
  return prefix ? { ...entry, name } : entry;
}

export async function createEntry(
  deps: Deps,
  principal: Principal,
  namespace: string,
  input: EntryInput,
): Promise<MetadefEntry> {
  assertMayChange(principal, `add_metadef_${input.kind}`);
  return deps.catalog.transaction(async (tx) => {
    const ns = await loadNamespace(tx, principal, namespace);
    if (await tx.metadefs.findEntry(ns.id, input.kind, input.name)) {
      throw alreadyExists(
        `A metadata definition ${WORD[input.kind].one} with name=${input.name} already exists in namespace=${ns.namespace}.`,
      );
    }
    return addEntry(tx, ns, input, Date.now());
  });
}

/**
 * Creates several tags at once. By default they replace the namespace's tags; with `append` they
 * are added to them. A name given twice, or (appending) one the namespace has, is a conflict.
 */
export async function createTags(
  deps: Deps,
  principal: Principal,
  namespace: string,
  names: string[],
  append: boolean,
): Promise<MetadefEntry[]> {
  assertMayChange(principal, "add_metadef_tags");
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) {
    throw alreadyExists(`Duplicate tag ${duplicate} in the request.`);
  }
  return deps.catalog.transaction(async (tx) => {
    const ns = await loadNamespace(tx, principal, namespace);
    const now = Date.now();
    if (!append) await tx.metadefs.deleteEntries(ns.id, "tag");
    const created: MetadefEntry[] = [];
    for (const name of names) {
      if (append && (await tx.metadefs.findEntry(ns.id, "tag", name))) {
        throw alreadyExists(`A metadata tag with name=${name} already exists in namespace=${ns.namespace}.`);
      }
      created.push(await addEntry(tx, ns, { kind: "tag", name, body: {} }, now));
    }
    return created;
  });
}

/** Replaces an entry's document; a new name in it renames the entry. */
export async function updateEntry(
  deps: Deps,
  principal: Principal,
  namespace: string,
  name: string,
  input: EntryInput,
): Promise<MetadefEntry> {
  assertMayChange(principal, `modify_metadef_${input.kind}`);
  return deps.catalog.transaction(async (tx) => {
    const ns = await loadNamespace(tx, principal, namespace);
    const current = await tx.metadefs.findEntry(ns.id, input.kind, name);
    if (!current) throw entryNotFound(input.kind, name, ns);
    const next: MetadefEntry = {
      ...current,
      name: checkEntryName(input.kind, input.name),
      body: input.body,
      updatedAt: Date.now(),
    };
    if (next.name !== name && (await tx.metadefs.findEntry(ns.id, input.kind, next.name))) {
      throw alreadyExists(
        `Invalid update. It would result in a duplicate metadata definition ${WORD[input.kind].one} with the same name=${next.name} in namespace=${ns.namespace}.`,
      );
    }
    await tx.metadefs.updateEntry(ns.id, name, next);
    await tx.metadefs.touchNamespace(ns.id, next.updatedAt);
    return next;
  });
}

export async function deleteEntry(
  deps: Deps,
  principal: Principal,
  namespace: string,
  kind: EntryKind,
  name: string,
): Promise<void> {
  assertMayChange(principal, `delete_metadef_${kind}`);
  await deps.catalog.transaction(async (tx) => {
    const ns = await loadNamespace(tx, principal, namespace);
    if (ns.protected) {
      throw permissionDenied(
        `Metadata definition ${WORD[kind].one} ${name} is in protected namespace ${ns.namespace} and cannot be deleted.`,
      );
    }
    if (!(await tx.metadefs.deleteEntry(ns.id, kind, name))) throw entryNotFound(kind, name, ns);
    await tx.metadefs.touchNamespace(ns.id, Date.now());
  });
}
