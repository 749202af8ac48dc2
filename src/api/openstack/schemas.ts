import { VIRTUAL_ENV_TYPES } from "./extension-fields.js";

const UUID_PATTERN =
  "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$";

/** Glance's disk formats plus the public cloud's zvhd and zvhd2. */
export const DISK_FORMATS = [
  "ami",
  "ari",
  "aki",
  "vhd",
  "vhdx",
  "vmdk",
  "raw",
  "qcow2",
  "vdi",
  "iso",
  "ploop",
  "zvhd",
  "zvhd2",
] as const;

export const CONTAINER_FORMATS = ["ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"] as const;

export const VISIBILITIES = ["community", "public", "private", "shared"] as const;

/** An image document that passed IMAGE_SCHEMA: the base attributes typed, every other one a string property. */
export interface ImageDocument {
  id?: string;
  owner?: string | null;
  name?: string | null;
  visibility?: (typeof VISIBILITIES)[number];
  protected?: boolean;
  os_hidden?: boolean;
  tags?: string[];
  container_format?: string | null;
  disk_format?: string | null;
  min_ram?: number;
  min_disk?: number;
  [property: string]: unknown;
}

/** Base attributes a client sets (on create and by patch); every other name is a custom property. */
export const WRITABLE_BASE_ATTRIBUTES = [
  "name",
  "visibility",
  "protected",
  "os_hidden",
  "tags",
  "container_format",
  "disk_format",
  "min_ram",
  "min_disk",
] as const;

/** Attributes the service sets; a client naming them in a create or patch gets 403. */
export const READ_ONLY_ATTRIBUTES = [
  "status",
  "size",
  "virtual_size",
  "checksum",
  "os_hash_algo",
  "os_hash_value",
  "created_at",
  "updated_at",
  "self",
  "file",
  "schema",
  "direct_url",
  "stores",
  "locations",
] as const;

const str = (description: string, extra: Record<string, unknown> = {}) => ({
  type: "string",
  description,
  maxLength: 255,
  ...extra,
});

/**
 * The image schema: served at /v2/schemas/image (clients validate against it) and used to
 * validate creates and patches, so what we say and what we enforce cannot drift apart.
 */
export const IMAGE_SCHEMA = {
  name: "image",
  properties: {
    id: { type: "string", description: "The image's UUID", pattern: UUID_PATTERN },
    name: { type: ["null", "string"], description: "A name for people", minLength: 1, maxLength: 255 },
    status: {
      type: "string",
      readOnly: true,
      description: "Where the image is in its lifecycle",
      enum: [
        "queued",
        "saving",
        "active",
        "killed",
        "deleted",
        "uploading",
        "importing",
        "pending_delete",
        "deactivated",
      ],
    },
    visibility: { type: "string", description: "Who may see the image", enum: [...VISIBILITIES] },
    protected: { type: "boolean", description: "A protected image cannot be deleted" },
    os_hidden: { type: "boolean", description: "Hidden images stay out of default lists" },
    checksum: { type: ["null", "string"], readOnly: true, description: "MD5 of the data", maxLength: 32 },
    os_hash_algo: {
      type: ["null", "string"],
      readOnly: true,
      description: "The algorithm of os_hash_value",
      maxLength: 64,
    },
    os_hash_value: {
      type: ["null", "string"],
      readOnly: true,
      description: "Hex digest of the data with os_hash_algo",
      maxLength: 128,
    },
    owner: { type: ["null", "string"], description: "The project that owns the image", maxLength: 255 },
    size: { type: ["null", "integer"], readOnly: true, description: "Stored bytes" },
    virtual_size: {
      type: ["null", "integer"],
      readOnly: true,
      description: "Disk size a guest sees, in bytes",
    },
    container_format: {
      type: ["null", "string"],
      description: "The container around the disk",
      enum: [null, ...CONTAINER_FORMATS],
    },
    disk_format: { type: ["null", "string"], description: "The disk format", enum: [null, ...DISK_FORMATS] },
    created_at: { type: "string", readOnly: true, description: "When the image was registered" },
    updated_at: { type: "string", readOnly: true, description: "When the image last changed" },
    tags: {
      type: "array",
      description: "Free-form labels",
      items: { type: "string", minLength: 1, maxLength: 255 },
    },
    min_ram: { type: "integer", description: "Memory needed to boot, in MB", minimum: 0 },
    min_disk: {
      type: "integer",
      description: "Disk needed to boot, in GB: 1 to 1024, 0 for unset",
      minimum: 0,
      maximum: 1024,
    },
    self: { type: "string", readOnly: true, description: "The image's URL" },
    file: { type: "string", readOnly: true, description: "The image data's URL" },
    schema: { type: "string", readOnly: true, description: "This schema's URL" },
    locations: {
      type: "array",
      description: "Where the data was read from (shown when the service shows locations)",
      items: {
        type: "object",
        properties: { url: { type: "string", maxLength: 2048 }, metadata: { type: "object" } },
        required: ["url", "metadata"],
      },
    },
    // `stores` (shown on images with data) is left out on purpose: glanceclient turns schema
    // properties into options, and its import command has a --stores option of its own.
    __os_version: str("Operating system and version; decides __os_type, __platform and __os_bit", {
      is_base: false,
    }),
    __os_type: str("Linux, Windows or Other (from __os_version)", { is_base: false }),
    __platform: str("The OS platform (from __os_version)", { is_base: false }),
    __os_bit: {
      type: "string",
      description: "32 or 64 (from __os_version)",
      enum: ["32", "64"],
      is_base: false,
    },
    __imagetype: str("private, shared, community or gold (public)", { is_base: false }),
    __isregistered: { type: "string", readOnly: true, description: "Always true", is_base: false },
    __image_source_type: {
      type: "string",
      readOnly: true,
      description: "Backend storage type",
      is_base: false,
    },
    __image_size: {
      type: "string",
      readOnly: true,
      description: "Stored bytes, as a string",
      is_base: false,
    },
    virtual_env_type: {
      type: "string",
      description: "Where the image runs: FusionCompute, DataImage (data disks) or Ironic (bare metal)",
      enum: [...VIRTUAL_ENV_TYPES],
      is_base: false,
    },
  },
  additionalProperties: { type: "string", maxLength: 255 },
  links: [
    { rel: "self", href: "{self}" },
    { rel: "enclosure", href: "{file}" },
    { rel: "describedby", href: "{schema}" },
  ],
} as const;

export const IMAGES_SCHEMA = {
  name: "images",
  properties: {
    images: { type: "array", items: IMAGE_SCHEMA },
    schema: { type: "string" },
    first: { type: "string" },
    next: { type: "string" },
  },
  links: [
    { rel: "first", href: "{first}" },
    { rel: "next", href: "{next}" },
    { rel: "describedby", href: "{schema}" },
  ],
};

export const MEMBER_SCHEMA = {
  name: "member",
  properties: {
    member_id: { type: "string", description: "The project the image is shared with" },
    image_id: { type: "string", description: "The image's UUID", pattern: UUID_PATTERN },
    created_at: { type: "string", description: "When the image was shared" },
    updated_at: { type: "string", description: "When the membership last changed" },
    status: {
      type: "string",
      description: "Whether the member project took the share",
      enum: ["pending", "accepted", "rejected"],
    },
    schema: { readOnly: true, type: "string" },
  },
};

export const MEMBERS_SCHEMA = {
  name: "members",
  properties: {
    members: { type: "array", items: MEMBER_SCHEMA },
    schema: { type: "string" },
  },
  links: [{ rel: "schema", href: "{schema}" }],
};
