import type { Selectable } from "kysely";
import type { DeprecationState, Image, ImageKind, ImageStatus, OsType } from "../../core/image.js";
import type { ImagesTable } from "./schema.js";

/** Images as rows and rows as images: JSON columns for maps and lists, 0/1 for booleans. */
export type ImageRow = Selectable<ImagesTable>;

export function toImage(row: ImageRow): Image {
  return {
    id: row.id,
    uuid: row.uuid,
    kind: row.kind as ImageKind,
    folderId: row.folder_id,
    name: row.name,
    description: row.description,
    labels: JSON.parse(row.labels) as Record<string, string>,
    family: row.family,
    minDiskSize: Number(row.min_disk_size),
    productIds: JSON.parse(row.product_ids) as string[],
    osType: row.os_type as OsType,
    pooled: row.pooled === 1,
    hardwareGeneration: row.hardware_generation ? JSON.parse(row.hardware_generation) : null,
    status: row.status as ImageStatus,
    visibility: row.visibility as Image["visibility"],
    protected: row.protected === 1,
    osHidden: row.os_hidden === 1,
    tags: JSON.parse(row.tags) as string[],
    properties: JSON.parse(row.properties) as Record<string, string>,
    diskFormat: row.disk_format,
    containerFormat: row.container_format,
    minRam: Number(row.min_ram),
    size: row.size === null ? null : Number(row.size),
    virtualSize: row.virtual_size === null ? null : Number(row.virtual_size),
    checksumMd5: row.checksum_md5,
    checksumSha512: row.checksum_sha512,
    blobKey: row.blob_key,
    stores: row.stores ? row.stores.split(",") : [],
    sourceLocations: row.locations ? (JSON.parse(row.locations) as Image["sourceLocations"]) : [],
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    version: row.version,
    deprecation: {
      state: row.deprecation_state as DeprecationState,
      replacement:
        row.replacement_id && row.replacement_uuid
          ? { id: row.replacement_id, uuid: row.replacement_uuid }
          : null,
      deprecateAt: optionalNumber(row.deprecate_at),
      obsoleteAt: optionalNumber(row.obsolete_at),
      deleteAt: optionalNumber(row.delete_at),
    },
    bin:
      row.binned_at === null || row.purge_at === null
        ? null
        : {
            binnedAt: Number(row.binned_at),
            purgeAt: Number(row.purge_at),
            restoreStatus: (row.restore_status ?? "active") as ImageStatus,
          },
    lastUsedAt: optionalNumber(row.last_used_at),
    useCount: Number(row.use_count),
  };
}

export function toRow(image: Image): ImageRow {
  return {
    id: image.id,
    uuid: image.uuid,
    kind: image.kind,
    folder_id: image.folderId,
    name: image.name,
    description: image.description,
    labels: JSON.stringify(image.labels),
    family: image.family,
    min_disk_size: image.minDiskSize,
    product_ids: JSON.stringify(image.productIds),
    os_type: image.osType,
    pooled: image.pooled ? 1 : 0,
    hardware_generation: image.hardwareGeneration ? JSON.stringify(image.hardwareGeneration) : null,
    status: image.status,
    visibility: image.visibility,
    protected: image.protected ? 1 : 0,
    os_hidden: image.osHidden ? 1 : 0,
    tags: JSON.stringify(image.tags),
    properties: JSON.stringify(image.properties),
    disk_format: image.diskFormat,
    container_format: image.containerFormat,
    min_ram: image.minRam,
    size: image.size,
    virtual_size: image.virtualSize,
    checksum_md5: image.checksumMd5,
    checksum_sha512: image.checksumSha512,
    blob_key: image.blobKey,
    stores: image.stores.length > 0 ? image.stores.join(",") : null,
    locations: image.sourceLocations.length > 0 ? JSON.stringify(image.sourceLocations) : null,
    created_at: image.createdAt,
    updated_at: image.updatedAt,
    version: image.version,
    deprecation_state: image.deprecation.state,
    replacement_id: image.deprecation.replacement?.id ?? null,
    replacement_uuid: image.deprecation.replacement?.uuid ?? null,
    deprecate_at: image.deprecation.deprecateAt,
    obsolete_at: image.deprecation.obsoleteAt,
    delete_at: image.deprecation.deleteAt,
    binned_at: image.bin?.binnedAt ?? null,
    purge_at: image.bin?.purgeAt ?? null,
    restore_status: image.bin?.restoreStatus ?? null,
    last_used_at: image.lastUsedAt,
    use_count: image.useCount,
  };
}

function optionalNumber(value: number | null): number | null {
  return value === null ? null : Number(value);
}
