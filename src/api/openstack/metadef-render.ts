import type {
  MetadefEntry,
  MetadefNamespace,
  MetadefResourceType,
  NamespaceDetail,
  ResourceTypeAssociation,
} from "../../core/metadefs/metadef.js";
import { glanceTime } from "./render.js";

/** Metadata definitions in Glance's shapes. */

export const nsPath = (ns: string) => `/v2/metadefs/namespaces/${ns}`;

/** A namespace with whatever of its content was read (a list reads only the associations). */
export type NamespaceDocument = MetadefNamespace &
  Partial<Pick<NamespaceDetail, "associations" | "objects" | "properties" | "tags">>;

export function renderNamespace(ns: NamespaceDocument): Record<string, unknown> {
  const { associations = [], properties = [], objects = [], tags = [] } = ns;
  return {
    namespace: ns.namespace,
    ...(ns.displayName !== null ? { display_name: ns.displayName } : {}),
    ...(ns.description !== null ? { description: ns.description } : {}),
    visibility: ns.visibility,
    protected: ns.protected,
    ...(ns.owner !== null ? { owner: ns.owner } : {}),
    created_at: glanceTime(ns.createdAt),
    updated_at: glanceTime(ns.updatedAt),
    self: nsPath(ns.namespace),
    schema: "/v2/schemas/metadefs/namespace",
    ...(associations.length > 0 ? { resource_type_associations: associations.map(renderAssociation) } : {}),
    ...(properties.length > 0 ? { properties: propertyMap(properties) } : {}),
    ...(objects.length > 0 ? { objects: objects.map((o) => renderObject(o, ns.namespace)) } : {}),
    ...(tags.length > 0 ? { tags: tags.map((t) => ({ name: t.name })) } : {}),
  };
}

export function renderAssociation(a: ResourceTypeAssociation): Record<string, unknown> {
  return {
    name: a.name,
    ...(a.prefix !== null ? { prefix: a.prefix } : {}),
    ...(a.propertiesTarget !== null ? { properties_target: a.propertiesTarget } : {}),
    created_at: glanceTime(a.createdAt),
    updated_at: glanceTime(a.updatedAt),
  };
}

export function renderResourceType(t: MetadefResourceType): Record<string, unknown> {
  return { name: t.name, created_at: glanceTime(t.createdAt), updated_at: glanceTime(t.updatedAt) };
}

export function renderObject(o: MetadefEntry, namespace: string): Record<string, unknown> {
  return {
    name: o.name,
    ...o.body,
    created_at: glanceTime(o.createdAt),
    updated_at: glanceTime(o.updatedAt),
    self: `${nsPath(namespace)}/objects/${o.name}`,
    schema: "/v2/schemas/metadefs/object",
  };
}

export const renderProperty = (p: MetadefEntry): Record<string, unknown> => ({ name: p.name, ...p.body });

export const propertyMap = (entries: MetadefEntry[]): Record<string, unknown> =>
  Object.fromEntries(entries.map((p) => [p.name, p.body]));

export const renderTag = (t: MetadefEntry): Record<string, unknown> => ({
  name: t.name,
  created_at: glanceTime(t.createdAt),
  updated_at: glanceTime(t.updatedAt),
});
