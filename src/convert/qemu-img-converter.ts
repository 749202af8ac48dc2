import fs from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import type { DiskFormat } from "../core/disk-format.js";
import { VitrineError, isVitrineError } from "../core/errors.js";
import type { BlobReader } from "../core/ports/blob-store.js";
import type { ConversionRequest, ImageConverter } from "../core/ports/converter.js";
import type { Ingest, IngestResult } from "../core/ports/ingest.js";
import { type QemuImgLimits, QemuImgFailed, runQemuImg } from "./qemu-img.js";
import type { ScratchSpace } from "./scratch-space.js";

/** qemu-img's driver for each format the core names. */
const DRIVERS: Partial<Record<DiskFormat, string>> = {
  raw: "raw",
  qcow2: "qcow2",
  vmdk: "vmdk",
  vhd: "vpc",
  vhdx: "vhdx",
  vdi: "vdi",
};

/**
 * Options for each target: VMDK as streamOptimized (what VMware and the public clouds import);
 * VHD fixed to the exact virtual size (no CHS rounding: the guest sees the disk it had).
 */
const TARGET_OPTIONS: Partial<Record<DiskFormat, string[]>> = {
  vmdk: ["-o", "subformat=streamOptimized"],
  vhd: ["-o", "subformat=dynamic,force_size=on"],
};

/** Room for a target format's own metadata beyond the guest's bytes. */
const METADATA_ALLOWANCE = (virtualSize: number): number => Math.ceil(virtualSize / 128) + 16 * 1024 * 1024;

export interface QemuImgConverterDeps {
  blobs: BlobReader;
  ingest: Ingest;
  scratch: ScratchSpace;
  limits: QemuImgLimits;
  /** The file of a committed blob when a store keeps it as a local file (read in place), else null. */
  localPathOf?: (key: string) => string | null;
}

/**
 * Conversion with qemu-img, in the order that keeps it safe: the input is data the inspector
 * already passed (the caller converts only committed blobs); qemu-img is told its format (never
 * probes), opens it with its backing link cut (`backing: null`), and runs under prlimit in a
 * scratch directory of its own; what it wrote is streamed through the ingest pipeline again, so
 * the result is sized, hashed and inspected like any upload before it is committed.
 */
export class QemuImgConverter implements ImageConverter {
  constructor(private readonly deps: QemuImgConverterDeps) {}

  async convert(req: ConversionRequest): Promise<IngestResult> {
    const { from, to, signal } = req;
    const inDriver = DRIVERS[from.format];
    const outDriver = DRIVERS[to];
    if (!inDriver || !outDriver) {
      throw new VitrineError(
        "INVALID_ARGUMENT",
        `${req.label}: ${from.format} data cannot be converted to ${to}`,
      );
    }
    const local = this.deps.localPathOf?.(from.key) ?? null;
    const needed = (local ? 0 : from.size) + from.virtualSize + METADATA_ALLOWANCE(from.virtualSize);
    const scratch = await this.deps.scratch.hold(req.key, needed);
    try {
      const input = local ?? path.join(scratch.dir, "input");
      if (!local)
        await pipeline(await this.deps.blobs.read(from.key), fs.createWriteStream(input), { signal });
      const output = path.join(scratch.dir, `output.${to}`);
      const source = JSON.stringify({
        driver: inDriver,
        backing: null,
        file: { driver: "file", filename: input },
      });
      try {
        await runQemuImg(
          [
            "convert",
            "-p",
            "-f",
            inDriver,
            "-O",
            outDriver,
            ...(TARGET_OPTIONS[to] ?? []),
            `json:${source}`,
            output,
          ],
          {
            cwd: scratch.dir,
            limits: this.deps.limits,
            signal,
            onProgress: (fraction) => req.onProgress?.({ stage: "converting", fraction }),
          },
        );
      } catch (err) {
        if (err instanceof QemuImgFailed) {
          throw new VitrineError(
            "FAILED_PRECONDITION",
            `${req.label}: converting ${from.format} to ${to} failed: ${withoutPaths(err.message)}`,
          ).because("CONVERSION_FAILED", { from: from.format, to });
        }
        throw err;
      }
      const result = await this.deps.ingest({
        source: fs.createReadStream(output),
        key: req.key,
        tag: req.tag,
        signal,
        maxBytes: req.maxBytes,
        maxVirtualSize: req.maxVirtualSize,
        allowedFormats: [to],
        sourceLabel: `${req.label} converted to ${to}`,
        sourceKind: "conversion",
        onBytes: (bytes) => req.onProgress?.({ stage: "verifying", bytes }),
      });
      if (result.virtualSize < from.virtualSize) {
        throw new VitrineError(
          "INTERNAL",
          `${req.label}: the ${to} result is smaller (${result.virtualSize} bytes) than the ${from.format} disk (${from.virtualSize})`,
        );
      }
      return result;
    } catch (err) {
      if (isVitrineError(err) || signal.aborted) throw err;
      throw Object.assign(new VitrineError("INTERNAL", `${req.label}: the conversion failed`), {
        cause: err,
      });
    } finally {
      await scratch.release();
    }
  }
}

/** qemu-img names files by their paths: the server's paths stay out of API messages. */
function withoutPaths(message: string): string {
  return message.replace(/json:\{.*\}/g, "the image").replace(/'?\/[^\s'",]+'?/g, "the image");
}
