import type { Image } from "../../core/image.js";
import { wholeSeconds } from "../../core/lifecycle/lifecycle.js";
import { ownEntry } from "../../core/own-entry.js";
import type { Principal } from "../../core/principal.js";
import osVersions from "./os-versions.json" with { type: "json" };

/**
 * The public-cloud extension fields of the OpenStack dialect. `__os_version` is the user's; `__os_type`,
 * `__platform` and `__os_bit` follow from it by os-versions.json; the rest describe the image
 * as stored. All are plain string properties, so they filter and patch like any other.
 */
export const DEFAULT_OS_VERSION = osVersions.default;

export const VIRTUAL_ENV_TYPES = ["FusionCompute", "DataImage", "Ironic"] as const;

/** The fields that follow from __os_version. */
export const DERIVED_OS_FIELDS = ["__os_type", "__platform", "__os_bit"] as const;

/** Fields the service fills in from the stored image; a client may not set them. */
export const SYSTEM_EXTENSION_FIELDS = [
  "__image_size",
  "__isregistered",
  "__image_source_type",
  "__imagetype",
  // Vitrine's last use (README "Lifecycle"), shown once the image was used.
  "last_used_at",
  "use_count",
] as const;

/**
 * Vitrine's deprecation in Glance's terms (README "Lifecycle"): shown as properties when the image
 * has one; setting them changes the deprecation (an empty value clears a time, `deprecation_state
 * = ACTIVE` the state). Removing one changes nothing, as for every extension field: openstacksdk
 * sends a remove for properties it does not know, which must not undo a deprecation.
 */
export const DEPRECATION_FIELDS = [
  "deprecation_state",
  "deprecation_replacement",
  "deprecation_deprecate_at",
  "deprecation_obsolete_at",
  "deprecation_delete_at",
] as const;

/**
 * Every extension field: each always has a value in a rendered image (the user's, or the one
 * derived or computed), so removing one is never "does not exist" — it puts back that value.
 */
export const EXTENSION_FIELDS = [
  "__os_version",
  ...DERIVED_OS_FIELDS,
  "virtual_env_type",
  ...SYSTEM_EXTENSION_FIELDS,
  ...DEPRECATION_FIELDS,
] as const;

export interface OsFacts {
  __os_type: string;
  __platform: string;
  __os_bit: string;
}

/** The table by lower-cased version, built once (every rendered image looks its version up). */
const KNOWN_VERSIONS = new Map(
  osVersions.versions.map((v) => [
    v.version.toLowerCase(),
    { __os_type: v.osType, __platform: v.platform, __os_bit: v.bit } as OsFacts,
  ]),
);

export function osFacts(version: string): OsFacts {
  const known = KNOWN_VERSIONS.get(version.toLowerCase());
  if (known) return { ...known };
  const lower = version.toLowerCase();
  const platform = osVersions.platforms.find((p) => lower.includes(p.keyword));
  const bit = /32\s*-?\s*bit/i.test(version) ? "32" : "64";
  return {
    __os_type: platform?.osType ?? "Other",
    __platform: platform?.platform ?? "Other",
    __os_bit: bit,
  };
}

/**
 * The OS properties a new image stores: the given __os_version (or the default) and, for each
 * derived field the client did not give, its value from the table.
 */
export function osProperties(given: Record<string, string>): Record<string, string> {
  const version = given.__os_version ?? DEFAULT_OS_VERSION;
  const facts = osFacts(version);
  const out: Record<string, string> = { __os_version: version };
  for (const f of DERIVED_OS_FIELDS) out[f] = given[f] ?? facts[f];
  return out;
}

/**
 * `__imagetype` in the public cloud's vocabulary, which speaks from the caller's side: `gold` for
 * public images, `private` for the caller's own (and for another project's private image an admin
 * looks at), `shared` for an image another project shares with the caller (members or community).
 */
export function imageType(image: Image, viewer: Principal): "gold" | "private" | "shared" {
  if (image.visibility === "public") return "gold";
  if (image.folderId === viewer.projectId || ownEntry(viewer.folderRoles, image.folderId) !== undefined)
    return "private";
  return image.visibility === "private" ? "private" : "shared";
}

export function renderedExtensionFields(image: Image, viewer: Principal): Record<string, string> {
  const version =
    image.properties.__os_version ??
    (image.osType === "WINDOWS" ? "Other Windows(64 bit)" : DEFAULT_OS_VERSION);
  return {
    __os_version: version,
    ...osFacts(version),
    virtual_env_type: image.kind === "baremetal" ? "Ironic" : "FusionCompute",
    ...image.properties,
    __imagetype: imageType(image, viewer),
    __isregistered: "true",
    __image_source_type: "uds",
    __image_size: String(image.size ?? 0),
    ...lifecycleFields(image),
  };
}

/** The deprecation (when the image has one) and the last use (once it was used). */
function lifecycleFields(image: Image): Record<string, string> {
  const out: Record<string, string> = {};
  const d = image.deprecation;
  const time = (ms: number | null) => (ms === null ? null : wholeSeconds(ms));
  const fields: [string, string | null][] = [
    ["deprecation_replacement", d.replacement?.uuid ?? null],
    ["deprecation_deprecate_at", time(d.deprecateAt)],
    ["deprecation_obsolete_at", time(d.obsoleteAt)],
    ["deprecation_delete_at", time(d.deleteAt)],
  ];
  if (d.state !== "ACTIVE" || fields.some(([, v]) => v !== null)) out.deprecation_state = d.state;
  for (const [name, value] of fields) if (value !== null) out[name] = value;
  if (image.lastUsedAt !== null) {
    out.last_used_at = time(image.lastUsedAt)!;
    out.use_count = String(image.useCount);
  }
  return out;
}
