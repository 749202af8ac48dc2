import type { DiskFormat } from "./disk-format.js";
import { invalidArgument } from "./errors.js";
import type { ImageKind } from "./image.js";
import { FOUR_TIB } from "./image-sizes.js";

export const ALL_FORMATS: readonly DiskFormat[] = ["raw", "qcow2", "vmdk", "vhd", "vhdx", "vdi", "iso"];

/**
 * Which detected formats each way in accepts, and the limits every inspection applies. The
 * defaults follow the APIs: Compute takes qcow2, VMDK and VHD from object storage (raw too from
 * disks and snapshots), BareMetal takes ISO (servers boot it). `relaxFormatMismatch` lets an operator accept a
 * detected format other than the allowed or declared one; the safety findings still apply.
 */
export interface FormatPolicy {
  computeUri: readonly DiskFormat[];
  computeVolume: readonly DiskFormat[];
  baremetal: readonly DiskFormat[];
  maxVirtualSize: number;
  relaxFormatMismatch: boolean;
}

export const DEFAULT_FORMAT_POLICY: FormatPolicy = {
  computeUri: ["qcow2", "vmdk", "vhd"],
  computeVolume: ["qcow2", "vmdk", "vhd", "raw"],
  baremetal: ["iso"],
  maxVirtualSize: FOUR_TIB,
  relaxFormatMismatch: false,
};

/** The formats a create of `kind` from a source of `sourceType` accepts. */
export function formatsForCreate(policy: FormatPolicy, kind: ImageKind, sourceType: string): DiskFormat[] {
  if (policy.relaxFormatMismatch) return [...ALL_FORMATS];
  if (kind === "baremetal") return [...policy.baremetal];
  return [...(sourceType === "uri" ? policy.computeUri : policy.computeVolume)];
}

/**
 * Formats declared by the user (OpenStack's `disk_format`) and the detected formats each one
 * accepts; `field` names the declaration in the dialect's words, for refusals.
 */
export interface DeclaredFormats {
  field: string;
  accepted: Readonly<Record<string, readonly DiskFormat[]>>;
}

/**
 * The formats data stored into `image` may be in, by the format it declared (an OpenStack upload
 * or import); an image that declared no disk or container format takes no data yet.
 */
export function formatsForDeclared(
  policy: FormatPolicy,
  declared: DeclaredFormats,
  image: { diskFormat: string | null; containerFormat: string | null },
  purpose: "saving" | "importing",
): DiskFormat[] {
  if (!image.diskFormat || !image.containerFormat) {
    throw invalidArgument("diskFormat and containerFormat must be set before data is stored").because(
      "FORMATS_UNSET",
      { purpose },
    );
  }
  return policy.relaxFormatMismatch ? [...ALL_FORMATS] : [...(declared.accepted[image.diskFormat] ?? [])];
}
