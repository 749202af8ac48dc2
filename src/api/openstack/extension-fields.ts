import type { Image } from "../../core/image.js";
import osVersions from "./os-versions.json" with { type: "json" };

/**
 * The public-cloud extension fields of the OpenStack dialect. `__os_version` is the user's; `__os_type`,
 * `__platform` and `__os_bit` follow from it by os-versions.json; the rest describe the image
 * as stored. All are plain string properties, so they filter and patch like any other.
 */
export const DEFAULT_OS_VERSION = osVersions.default;

export const VIRTUAL_ENV_TYPES = ["FusionCompute", "DataImage", "Ironic"] as const;

/** Fields the service fills in from the stored image; a client may not set them. */
export const SYSTEM_EXTENSION_FIELDS = ["__image_size", "__isregistered", "__image_source_type"] as const;

/** The fields that follow from __os_version. */
export const DERIVED_OS_FIELDS = ["__os_type", "__platform", "__os_bit"] as const;

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

/** What the rendering adds unless the image stores its own value. */
const IMAGE_TYPE: Record<Image["visibility"], string> = {
  private: "private",
  shared: "shared",
  community: "community",
  public: "gold",
};

export function renderedExtensionFields(image: Image): Record<string, string> {
  const version =
    image.properties.__os_version ??
    (image.osType === "WINDOWS" ? "Other Windows(64 bit)" : DEFAULT_OS_VERSION);
  return {
    __os_version: version,
    ...osFacts(version),
    __imagetype: IMAGE_TYPE[image.visibility],
    virtual_env_type: image.kind === "baremetal" ? "Ironic" : "FusionCompute",
    ...image.properties,
    __isregistered: "true",
    __image_source_type: "uds",
    __image_size: String(image.size ?? 0),
  };
}
