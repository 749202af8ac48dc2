import { addAbortSignal } from "node:stream";
import type { AppenderCheckpoint, BlobAppending } from "../core/ports/blob-store.js";
import type { AppendRequest, AppendResult, ResumableIngest } from "../core/ports/ingest.js";
import { compressionOf } from "./decompress.js";
import { Meter, type MeterState } from "./hash.js";
import { checkVerdict, failureOf } from "./pipeline.js";

/** What a resumable upload goes on from: the store's checkpoint and the meter's state there. */
interface Checkpoint {
  appender: AppenderCheckpoint;
  /** null at offset 0 (nothing measured yet). */
  meter: MeterState | null;
}

/** Stored as JSON with the binary parts in base64 (the catalog keeps text). */
function encode(checkpoint: Checkpoint): string {
  const { meter } = checkpoint;
  return JSON.stringify({
    appender: checkpoint.appender,
    meter: meter && {
      size: meter.size,
      hashes: meter.hashes.map((h) => Buffer.from(h).toString("base64")),
      inspection: {
        total: meter.inspection.total,
        ranges: meter.inspection.ranges.map((r) => ({ offset: r.offset, data: r.data.toString("base64") })),
      },
    },
  });
}

interface EncodedMeter {
  size: number;
  hashes: string[];
  inspection: { total: number; ranges: { offset: number; data: string }[] };
}

function decode(text: string): Checkpoint {
  const parsed = JSON.parse(text) as { appender: AppenderCheckpoint; meter: EncodedMeter | null };
  const meter = parsed.meter;
  return {
    appender: parsed.appender,
    meter: meter && {
      size: meter.size,
      hashes: meter.hashes.map((h) => new Uint8Array(Buffer.from(h, "base64"))),
      inspection: {
        total: meter.inspection.total,
        ranges: meter.inspection.ranges.map((r) => ({
          offset: r.offset,
          data: Buffer.from(r.data, "base64"),
        })),
      },
    },
  };
}

/**
 * A resumable upload's ingest on a store that appends (core/ports/ingest.ts ResumableIngest).
 * Checkpoints fall where the store's cost least (S3 part boundaries, every 32 MiB on a
 * directory), one at a time while the data keeps flowing, and once more where a request ends,
 * whatever ended it: a cut connection keeps every byte that arrived.
 */
export class AppendingIngest implements ResumableIngest {
  constructor(private readonly blobs: BlobAppending) {}

  async begin(key: string, tag: string, length: number): Promise<string> {
    const appender = await this.blobs.createAppender(key, tag, length);
    try {
      return encode({ appender: await appender.sync(), meter: null });
    } finally {
      await appender.close();
    }
  }

  isCompressed(head: Buffer): boolean {
    return compressionOf(head) !== null;
  }

  async append(req: AppendRequest): Promise<AppendResult> {
    const start = decode(req.checkpoint);
    const appender = await this.blobs.resumeAppender(start.appender);
    const meter = Meter.resumable(
      req.length,
      { maxVirtualSize: req.maxVirtualSize, onBytes: req.onBytes },
      start.meter,
    );
    let durable = start.appender.offset;
    let failure: unknown = null;
    let storeFailed = false;
    /** A checkpoint failed (the upload was taken over, or the catalog failed): no more of them. */
    let checkpointFailed = false;

    const checkpoint = async (): Promise<void> => {
      const [state, store] = await Promise.all([meter.state(), appender.sync()]);
      await req
        .onCheckpoint(store.offset, encode({ appender: store, meter: state }))
        .catch((err: unknown) => {
          checkpointFailed = true;
          throw err;
        });
      durable = store.offset;
    };
    let inFlight: Promise<void> | null = null;
    let sourceError: unknown = null;
    req.source.once("error", (err) => (sourceError ??= err));
    // A client gone (or a request taken over) ends the reading; what arrived is checkpointed below.
    addAbortSignal(req.signal, req.source);
    try {
      for await (const chunk of req.source as AsyncIterable<Buffer>) {
        for (let rest = chunk; rest.length > 0;) {
          // A checkpoint that failed (the upload taken over) ends the reading with its error.
          if (checkpointFailed) await inFlight;
          const step = appender.checkpointBytes;
          const boundary = (Math.floor(appender.offset / step) + 1) * step;
          const piece = rest.subarray(0, boundary - appender.offset);
          rest = rest.subarray(piece.length);
          const behind = meter.update(piece);
          await appender.append(piece).catch((err: unknown) => {
            storeFailed = true;
            throw err;
          });
          if (behind) await behind;
          if (appender.offset === boundary) {
            // One checkpoint at a time; the data keeps flowing while it is written.
            if (inFlight) await inFlight;
            inFlight = checkpoint();
            inFlight.catch(() => {});
          }
        }
      }
    } catch (err) {
      failure = err;
    }
    if (inFlight) await inFlight.catch((err: unknown) => (failure ??= err));
    if (!storeFailed && !checkpointFailed && appender.offset > durable) {
      await checkpoint().catch((err: unknown) => (failure ??= err));
    }

    if (failure === null && durable === req.length && appender.offset === req.length) {
      try {
        const compression = compressionOf(meter.sniffer.start);
        const verdict = meter.sniffer.verdict();
        // Compressed data is checked once decompressed (the caller's second pass).
        if (compression === null) checkVerdict(verdict, req.allowedFormats, req.sourceLabel);
        const digests = await meter.digests();
        await appender.commit();
        return { offset: durable, stored: { ...digests, ...verdict, compression } };
      } catch (err) {
        meter.destroy();
        await appender.close().catch(() => {});
        throw failureOf(err, req, null);
      }
    }
    meter.destroy();
    await appender.close().catch(() => {});
    if (failure !== null) throw failureOf(failure, req, sourceError);
    return { offset: durable, stored: null };
  }
}
