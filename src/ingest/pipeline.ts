import { pipeline } from "node:stream/promises";
import { VitrineError, isVitrineError, storageFull } from "../core/errors.js";
import type { BlobIngester } from "../core/ports/blob-store.js";
import type { DiskFormat, FormatVerdict } from "../core/disk-format.js";
import type { IngestRequest, IngestResult } from "../core/ports/ingest.js";
import { MeasuringStream } from "./hash.js";

/**
 * The one path every image byte takes: source → measure (size, MD5, SHA-512, format) → blob
 * writer. The blob is committed only after the whole stream was read and the verdict accepted;
 * on any failure or cancellation the pending data is dropped.
 */
export async function ingest(blobs: BlobIngester, req: IngestRequest): Promise<IngestResult> {
  const writer = await blobs.createWriter(req.key, req.tag);
  const meter = new MeasuringStream(req.maxBytes, {
    maxVirtualSize: req.maxVirtualSize,
    inspect: req.inspect,
    onBytes: req.onBytes,
  });
  let sourceError: unknown = null;
  req.source.once("error", (err) => (sourceError ??= err));
  try {
    await pipeline(req.source, meter, writer.stream, { signal: req.signal });
    const verdict = meter.sniffer.verdict();
    checkVerdict(verdict, req.allowedFormats, req.sourceLabel);
    const digests = await meter.digests();
    await writer.commit();
    return { ...digests, ...verdict, key: req.key };
  } catch (err) {
    await writer.abort();
    throw failureOf(err, req, sourceError);
  }
}

/**
 * What an ingest's failure is for its caller: refusals as they are (first: a refused stream also
 * tears down its source, which may abort the signal), a full disk, a cancellation, a source that
 * failed; storage failures stay out of API messages (they name server paths), the cause is logged.
 */
export function failureOf(
  err: unknown,
  req: { signal: AbortSignal; sourceLabel: string },
  sourceError: unknown,
): unknown {
  if (isVitrineError(err)) return err;
  if (isNoSpace(err)) return storageFull(err);
  if (req.signal.aborted) return req.signal.reason ?? err;
  if (sourceError !== null) {
    return new VitrineError(
      "UNAVAILABLE",
      `${req.sourceLabel}: reading the data failed: ${describe(sourceError)}`,
    );
  }
  return Object.assign(new VitrineError("INTERNAL", "Storing the image data failed"), { cause: err });
}

/** Refuses data in a format the path does not accept, or with any safety finding. */
export function checkVerdict(
  verdict: FormatVerdict,
  allowedFormats: readonly DiskFormat[],
  label: string,
): void {
  if (!allowedFormats.includes(verdict.format)) {
    throw new VitrineError(
      "INVALID_ARGUMENT",
      `${label}: the data is in ${verdict.format} format; accepted formats are ${allowedFormats.join(", ")}`,
    ).because("FORMAT_NOT_ALLOWED", { format: verdict.format, allowed: allowedFormats.join(",") });
  }
  if (verdict.findings.length > 0) {
    // A finding starts with the rule family that made it ("qcow2: ...", "polyglot: ...").
    const rules = [
      ...new Set(verdict.findings.map((f) => f.slice(0, Math.max(0, f.indexOf(":"))) || "other")),
    ];
    throw new VitrineError(
      "INVALID_ARGUMENT",
      `${label}: the image is refused: ${verdict.findings.join("; ")}`,
    ).because("IMAGE_REFUSED", { rules: rules.join(",") });
  }
}

/** The disk or the quota under the blobs is full. */
function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}
