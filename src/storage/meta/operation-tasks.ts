import type { ImageSource, OperationKind, OperationTask } from "../../core/operation.js";
import type { DiskFormat } from "../../core/disk-format.js";
import type { ChangeRules, ImageFields } from "../../core/image-change.js";

/**
 * Reads an operation's stored task. Rows written before tasks were typed hold the older payload
 * shapes (no `type`); an installation upgraded with operations still queued reads them here, so
 * they run to the same end they would have before.
 */
export function decodeTask(kind: OperationKind, json: string): OperationTask {
  const stored = JSON.parse(json) as Partial<OperationTask> & LegacyPayload;
  if (stored.type === "update" && !stored.rules)
    return { ...stored, rules: BAREMETAL_RULES } as OperationTask;
  if (stored.type !== undefined) return stored as OperationTask;
  if (kind === "image.create" && stored.source && stored.allowedFormats && stored.inherit) {
    const store = stored.openstackImport?.store;
    return {
      type: "create",
      source: stored.source,
      allowedFormats: stored.allowedFormats,
      inherit: stored.inherit,
      formats: store === undefined ? "detected" : "declared",
      onFailure: store === undefined ? "kill" : "requeue",
      ...(store === undefined
        ? {}
        : {
            properties: {
              done: { os_glance_importing_to_stores: "", os_glance_failed_import: "" },
              failed: { os_glance_importing_to_stores: "", os_glance_failed_import: store },
            },
          }),
    };
  }
  if (kind === "image.update" && stored.patch) {
    return { type: "update", change: { set: stored.patch }, rules: BAREMETAL_RULES };
  }
  if (kind === "image.delete") return { type: "delete", blobKey: stored.blobKey ?? null };
  return { type: "none" };
}

/** Deferred updates stored without their rules were BareMetal's, the one dialect that defers. */
const BAREMETAL_RULES: ChangeRules = { uniqueName: true, minDiskCoversData: false };

/** The payloads of the first releases. */
interface LegacyPayload {
  source?: ImageSource;
  allowedFormats?: DiskFormat[];
  inherit?: { osType: boolean; productIds: boolean; minDiskSize: boolean };
  openstackImport?: { store: string };
  patch?: Partial<ImageFields>;
  blobKey?: string | null;
}
