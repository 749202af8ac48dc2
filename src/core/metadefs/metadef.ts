import { invalidArgument } from "../errors.js";

/**
 * Metadata definitions (Glance's "metadefs"): a catalog of the properties other services read
 * from images, volumes, flavors and servers, grouped in namespaces, so a console can offer them
 * as a form instead of free text. Nothing here changes an image; it describes what may be set.
 */

export type NamespaceVisibility = "public" | "private";

export interface MetadefNamespace {
  id: string;
  /** The unique name clients address it by (e.g. `OS::Compute::Watchdog`). */
  namespace: string;
  displayName: string | null;
  description: string | null;
  visibility: NamespaceVisibility;
  /** A protected namespace cannot be deleted until it is unprotected. */
  protected: boolean;
  /** The project that owns it; null for the standard definitions the service ships. */
  owner: string | null;
  createdAt: number;
  updatedAt: number;
}

/** What a namespace holds besides its associations: each kind is a set of uniquely named entries. */
export type EntryKind = "object" | "property" | "tag";

/**
 * One named entry of a namespace. `body` is the entry's document without its name: a property's
 * JSON schema (`title`, `type`, `enum`, ...), an object's `description`, `required` and
 * `properties`; a tag has none.
 */
export interface MetadefEntry {
  kind: EntryKind;
  name: string;
  body: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

/** A kind of resource the definitions apply to (`OS::Glance::Image`, `OS::Nova::Flavor`, ...). */
export interface MetadefResourceType {
  name: string;
  /** The ones the service ships cannot be removed (nothing removes resource types today). */
  protected: boolean;
  createdAt: number;
  updatedAt: number;
}

/**
 * A namespace applies to a resource type, with the prefix its properties carry there (a flavor's
 * `hw:` where an image says `hw_`) and, for resources that hold several property sets (a volume's
 * image metadata), which one.
 */
export interface ResourceTypeAssociation {
  name: string;
  prefix: string | null;
  propertiesTarget: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A namespace with everything it holds. */
export interface NamespaceDetail extends MetadefNamespace {
  associations: ResourceTypeAssociation[];
  objects: MetadefEntry[];
  properties: MetadefEntry[];
  tags: MetadefEntry[];
}

/** Limits that keep one namespace's reads bounded (Glance has none; a console reads it whole). */
export const MAX_ENTRIES_PER_KIND = 10_000;
export const MAX_NAME_LENGTH = 80;
export const MAX_TAG_NAME_LENGTH = 255;

/** Names are path segments of the API: bounded and without a slash. */
export function checkName(field: string, name: string, max = MAX_NAME_LENGTH): string {
  if (name.length === 0 || name.length > max || name.includes("/") || hasControlCharacter(name)) {
    throw invalidArgument(`${field} must be 1 to ${max} characters, without '/' or control characters.`, [
      { field, description: `1 to ${max} characters, no '/'` },
    ]);
  }
  return name;
}

const hasControlCharacter = (s: string): boolean => [...s].some((c) => c.charCodeAt(0) < 0x20);
