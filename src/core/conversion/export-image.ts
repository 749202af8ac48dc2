import type { CoreDeps } from "../core-deps.js";
import { failedPrecondition, invalidArgument } from "../errors.js";
import { createImage } from "../images/create-image.js";
import { loadImage } from "../images/image-loader.js";
import type { ImageRef } from "../images/image-loader.js";
import { isActive } from "../image-states.js";
import type { Operation } from "../operation.js";
import type { Principal } from "../principal.js";
import { checkTargetFormat, isConvertible } from "./conversion-policy.js";

export interface ExportImageInput {
  /** The format of the copy: raw, qcow2, vmdk (streamOptimized), vhd or vhdx. */
  format: string;
  /** The copy's folder (the source's when null), name and description. */
  folderId: string | null;
  name: string;
  description: string;
  /** The operation's description, in the dialect's words. */
  operationDescription: string;
}

/**
 * An export (README "Conversion and export"): a new image holding the source's disk converted to
 * another format, made by an operation like any create (progress, cancel, resumed after a
 * crash). Downloading the copy is downloading an image; deleting it is deleting one.
 */
export async function exportImage(
  deps: Pick<CoreDeps, "catalog" | "queue" | "urls" | "formats" | "limits">,
  principal: Principal,
  ref: ImageRef,
  input: ExportImageInput,
): Promise<Operation> {
  const target = checkTargetFormat("format", input.format);
  const source = await loadImage(deps.catalog, principal, "images.use", ref);
  if (!isActive(source) || !source.diskFormat) {
    throw failedPrecondition(`Image ${source.id} is not ready to be used as a source`);
  }
  if (!isConvertible(source.diskFormat)) {
    throw failedPrecondition(`Image ${source.id} is ${source.diskFormat}: only disk images can be exported`);
  }
  if (source.diskFormat === target) {
    throw invalidArgument(`format: the image is already ${target}; create an image from it to copy it`, [
      { field: "format", description: `the image is already ${target}` },
    ]);
  }
  return createImage(deps, principal, {
    kind: source.kind,
    folderId: input.folderId ?? source.folderId,
    name: input.name,
    description: input.description,
    labels: {},
    family: "",
    pooled: false,
    hardwareGeneration: source.hardwareGeneration,
    minDiskSize: 0,
    productIds: null,
    osType: null,
    source: { type: "image", imageId: source.id },
    convertTo: target,
    operationDescription: input.operationDescription,
    idempotencyKey: null,
  });
}
