import type { DiskFormat } from "../disk-format.js";
import { invalidArgument } from "../errors.js";
import { ALL_FORMATS } from "../format-policy.js";

/** The formats qemu-img reads for a conversion (an ISO is kept as it is: servers boot it). */
export const CONVERTIBLE_FORMATS: readonly DiskFormat[] = ["raw", "qcow2", "vmdk", "vhd", "vhdx", "vdi"];

/** The formats an image can be converted or exported to. */
export const TARGET_FORMATS: readonly DiskFormat[] = ["raw", "qcow2", "vmdk", "vhd", "vhdx"];

/**
 * What becomes of the data that arrives (README "Conversion and export"): converted to `target`
 * unless it is in one of the formats to `keep`; no target, nothing converted (the default).
 */
export interface ConversionPolicy {
  target: DiskFormat | null;
  keep: readonly DiskFormat[];
}

export const NO_CONVERSION: ConversionPolicy = { target: null, keep: [] };

/** The format data in `format` is converted to under `policy`, or null when it stays as it is. */
export function conversionTargetOf(policy: ConversionPolicy, format: string): DiskFormat | null {
  const { target } = policy;
  if (target === null || format === target) return null;
  if (!isConvertible(format) || policy.keep.includes(format)) return null;
  return target;
}

export function isConvertible(format: string): format is DiskFormat {
  return (CONVERTIBLE_FORMATS as readonly string[]).includes(format);
}

/** Checks a requested target format, naming `field` in the refusal. */
export function checkTargetFormat(field: string, format: string): DiskFormat {
  if (!(TARGET_FORMATS as readonly string[]).includes(format)) {
    const description = `must be one of ${TARGET_FORMATS.join(", ")}`;
    throw invalidArgument(`${field}: ${description}`, [{ field, description }]);
  }
  return format as DiskFormat;
}

/** Checks a list of formats to keep as they are. */
export function checkKeepFormats(field: string, formats: readonly string[]): DiskFormat[] {
  for (const format of formats) {
    if (!(ALL_FORMATS as readonly string[]).includes(format)) {
      const description = `unknown format ${JSON.stringify(format)}`;
      throw invalidArgument(`${field}: ${description}`, [{ field, description }]);
    }
  }
  return [...new Set(formats)] as DiskFormat[];
}
