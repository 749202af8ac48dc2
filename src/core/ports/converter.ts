import type { DiskFormat } from "../disk-format.js";
import type { IngestResult } from "./ingest.js";

/** Stored data converted into another format (README "Conversion and export"). */
export interface ConversionRequest {
  /** The committed blob to read, the format it was inspected as, and its sizes. */
  from: { key: string; format: DiskFormat; size: number; virtualSize: number };
  to: DiskFormat;
  /** The blob key the converted data is committed under, and the tag of its pending data. */
  key: string;
  tag: string;
  signal: AbortSignal;
  maxBytes: number;
  maxVirtualSize: number;
  /** How the data is named in error messages. */
  label: string;
  /** Told how far the conversion is (0..1), then how many bytes of the result were verified. */
  onProgress?: (
    progress: { stage: "converting"; fraction: number } | { stage: "verifying"; bytes: number },
  ) => void;
}

/**
 * Converts stored data with qemu-img (src/convert): only data the inspector passed goes in, under
 * resource limits and without following backing files, and what comes out goes through the ingest
 * pipeline again (size, MD5, SHA-512, inspection) before it is committed.
 */
export interface ImageConverter {
  convert(request: ConversionRequest): Promise<IngestResult>;
}
