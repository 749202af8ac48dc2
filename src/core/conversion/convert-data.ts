import type { CoreDeps } from "../core-deps.js";
import type { DiskFormat } from "../disk-format.js";
import type { StoredData } from "../image.js";
import type { OperationProgress } from "../operation.js";
import type { CatalogStores } from "../ports/catalog.js";
import type { Compression, IngestResult } from "../ports/ingest.js";
import { type ConversionPolicy, conversionTargetOf } from "./conversion-policy.js";

/**
 * The properties that record where converted data came from (README "Conversion and export"):
 * what the image was given, before it was decompressed or converted.
 */
export const ORIGINAL_PROPERTIES = {
  format: "vitrine_original_disk_format",
  size: "vitrine_original_size",
  md5: "vitrine_original_checksum",
  sha512: "vitrine_original_os_hash_value",
  compression: "vitrine_source_compression",
  /** On an exported copy: the image it was exported from (the Yandex-style id). */
  exportedFrom: "vitrine_exported_from",
} as const;

/**
 * The blob an operation commits converted data under (what it ingested is under its own id): both
 * are its own while it runs, which `vitrine doctor` must know (storage/meta/maintenance-queries.ts).
 */
export const convertedBlobKey = (operationId: string): string => `${operationId}-converted`;

/** The conversion policy that applies to a folder: its own when it has one, else the installation's. */
export async function conversionPolicyOf(
  tx: Pick<CatalogStores, "folders">,
  deps: Pick<CoreDeps, "conversion">,
  folderId: string,
): Promise<ConversionPolicy> {
  return (await tx.folders.conversion(folderId)) ?? deps.conversion;
}

/** Data that arrived, and what is known of it. */
export interface ArrivedData extends StoredData {
  format: DiskFormat;
}

/** The properties recording `original`: what converted data was before its conversion. */
export function originalProperties(original: ArrivedData): Record<string, string> {
  return {
    [ORIGINAL_PROPERTIES.format]: original.format,
    [ORIGINAL_PROPERTIES.size]: String(original.size),
    [ORIGINAL_PROPERTIES.md5]: original.md5,
    [ORIGINAL_PROPERTIES.sha512]: original.sha512,
  };
}

export interface ConversionStep {
  /** The blob key and pending-data tag the converted data is committed under. */
  key: string;
  tag: string;
  signal: AbortSignal;
  label: string;
  /** Where the operation's progress goes (a direct upload has none). */
  report?: (progress: OperationProgress) => void;
}

/** Data as it is kept: converted when the policy says so, with the properties recording the original. */
export interface KeptData {
  data: IngestResult | ArrivedData;
  converted: boolean;
  properties: Record<string, string>;
}

/**
 * What becomes of data that arrived in `format` under `policy`: converted (its original recorded
 * in properties), or kept as it is. The original blob stays: the caller releases it once the
 * image names the converted one.
 */
export async function keepData(
  deps: Pick<CoreDeps, "converter" | "maxImageBytes" | "formats">,
  policy: ConversionPolicy,
  arrived: ArrivedData,
  compression: Compression | null,
  step: ConversionStep,
): Promise<KeptData> {
  const properties: Record<string, string> = compression
    ? { [ORIGINAL_PROPERTIES.compression]: compression }
    : {};
  const target = conversionTargetOf(policy, arrived.format);
  if (target === null) return { data: arrived, converted: false, properties };
  const data = await convertData(deps, arrived, target, step);
  return { data, converted: true, properties: { ...properties, ...originalProperties(arrived) } };
}

/** Converts stored data to `target`, reporting how far it is as an operation's progress. */
export function convertData(
  deps: Pick<CoreDeps, "converter" | "maxImageBytes" | "formats">,
  from: ArrivedData,
  target: DiskFormat,
  step: ConversionStep,
): Promise<IngestResult> {
  const total = from.virtualSize;
  return deps.converter.convert({
    from: { key: from.key, format: from.format, size: from.size, virtualSize: from.virtualSize },
    to: target,
    key: step.key,
    tag: step.tag,
    signal: step.signal,
    maxBytes: deps.maxImageBytes,
    maxVirtualSize: deps.formats.maxVirtualSize,
    label: step.label,
    onProgress: (p) =>
      step.report?.(
        p.stage === "converting"
          ? { stage: "converting", bytesDone: Math.round(p.fraction * total), bytesTotal: total }
          : { stage: "verifying", bytesDone: p.bytes, bytesTotal: null },
      ),
  });
}
