import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { type Readable, Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import type { BlobWriter } from "../../core/ports/blob-store.js";
import { isTransient } from "./s3-errors.js";
import { type PartPlan, partSize } from "./s3-part-plan.js";
import { abortMarked, deleteMarker, putMarker } from "./s3-pending-markers.js";

/** Attempts for a spooled part: the SDK cannot retry a streamed body itself, so the writer does. */
const SPOOLED_PART_ATTEMPTS = 5;

export interface WriterTarget {
  client: S3Client;
  bucket: string;
  key: string;
  /** This writer's pending marker (s3-pending-markers.ts). */
  marker: string;
  plan: PartPlan;
  /** Where parts too large for memory are spooled (created by the store, mode 0700). */
  spoolDir: string;
}

/** A part being filled: in memory, or (a large part) in a spool file. */
type FillingPart =
  | { kind: "memory"; bytes: number; target: number; chunks: Buffer[] }
  | { kind: "spool"; bytes: number; target: number; file: string; handle: fsp.FileHandle };

/** A part ready to send: its bytes, readable again for another attempt. */
interface FilledPart {
  bytes: number;
  body(): Buffer | Readable;
  attempts: number;
  /** Frees what the part held (its spool file). */
  release(): Promise<void>;
}

/**
 * Streams a blob into a multipart upload: parts fill one after the other (see s3-part-plan.ts),
 * a few upload while the next fills, and the writable stream applies backpressure while they
 * do, so memory stays at about (parts in flight + 1) × 16 MiB whatever the image's size. The
 * object appears only when commit completes the upload; a blob smaller than one part is written
 * with a single PUT at commit.
 */
export class MultipartWriter implements BlobWriter {
  readonly stream: Writable;
  private filling: FillingPart | null = null;
  private uploadId: string | null = null;
  private readonly parts: { PartNumber: number; ETag: string }[] = [];
  private nextPart = 1;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown = null;
  private settled = false;

  constructor(private readonly target: WriterTarget) {
    this.stream = new Writable({
      highWaterMark: 1024 * 1024,
      write: (chunk: Buffer, _encoding, done) => {
        this.append(chunk).then(() => done(), done);
      },
      final: (done) => {
        Promise.all(this.inFlight).then(() => done(this.failure as Error | null), done);
      },
    });
  }

  private async append(chunk: Buffer): Promise<void> {
    const part = this.filling ?? (this.filling = await this.openPart());
    if (part.kind === "memory") part.chunks.push(chunk);
    else await part.handle.write(chunk);
    part.bytes += chunk.length;
    if (part.bytes >= part.target) await this.sendPart();
  }

  private async openPart(): Promise<FillingPart> {
    const target = partSize(this.target.plan, this.nextPart);
    if (target <= this.target.plan.memoryPartBytes) return { kind: "memory", bytes: 0, target, chunks: [] };
    // The process id in the name lets the store tell a dead process's leftovers from live ones.
    const file = path.join(this.target.spoolDir, `${process.pid}-${randomBytes(6).toString("hex")}.part`);
    return { kind: "spool", bytes: 0, target, file, handle: await fsp.open(file, "wx", 0o600) };
  }

  /** Closes the filling part and starts uploading it; waits while too many are in flight. */
  private async sendPart(): Promise<void> {
    if (this.failure) throw this.failure;
    const part = await this.close(this.filling!);
    this.filling = null;
    const uploadId = this.uploadId ?? (await this.start());
    const partNumber = this.nextPart++;
    const upload = this.uploadPart(uploadId, partNumber, part)
      .then((etag) => {
        this.parts.push({ PartNumber: partNumber, ETag: etag });
      })
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => {
        this.inFlight.delete(upload);
        return part.release();
      });
    this.inFlight.add(upload);
    while (this.inFlight.size >= this.target.plan.partsInFlight) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  private async close(part: FillingPart): Promise<FilledPart> {
    if (part.kind === "memory") {
      const body = Buffer.concat(part.chunks);
      part.chunks = [];
      return { bytes: body.length, body: () => body, attempts: 1, release: async () => {} };
    }
    await part.handle.close();
    return {
      bytes: part.bytes,
      body: () => fs.createReadStream(part.file),
      attempts: SPOOLED_PART_ATTEMPTS,
      release: () => fsp.rm(part.file, { force: true }),
    };
  }

  private async uploadPart(uploadId: string, partNumber: number, part: FilledPart): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const body = part.body();
      try {
        const res = await this.target.client.send(
          new UploadPartCommand({
            Bucket: this.target.bucket,
            Key: this.target.key,
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: body,
            ContentLength: part.bytes,
          }),
        );
        return res.ETag!;
      } catch (err) {
        if (!Buffer.isBuffer(body)) body.destroy();
        if (attempt >= part.attempts || this.settled || !isTransient(err)) throw err;
        await sleep(250 * 2 ** attempt);
      }
    }
  }

  private async start(): Promise<string> {
    const { client, bucket, key, marker } = this.target;
    const res = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    this.uploadId = res.UploadId!;
    // Recorded before any part, so that after a crash GC can abort the upload.
    await putMarker(client, bucket, marker, { key, uploadId: this.uploadId });
    return this.uploadId;
  }

  async commit(): Promise<void> {
    if (this.failure) throw this.failure;
    const { client, bucket, key, marker } = this.target;
    const last = this.filling;
    if (this.uploadId === null && (last === null || last.kind === "memory")) {
      const body = last ? Buffer.concat(last.chunks) : Buffer.alloc(0);
      this.filling = null;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    } else {
      if (last !== null && last.bytes > 0) await this.sendPart();
      else if (last?.kind === "spool") await (await this.close(last)).release();
      await Promise.all(this.inFlight);
      if (this.failure) throw this.failure;
      const parts = [...this.parts].sort((a, b) => a.PartNumber - b.PartNumber);
      await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: this.uploadId!,
          MultipartUpload: { Parts: parts },
        }),
      );
    }
    this.settled = true;
    await deleteMarker(client, bucket, marker);
  }

  async abort(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    this.stream.on("error", () => {});
    this.stream.destroy();
    const part = this.filling;
    this.filling = null;
    if (part?.kind === "spool") {
      await part.handle.close().catch(() => {});
      await fsp.rm(part.file, { force: true });
    }
    await Promise.all(this.inFlight);
    await abortMarked(this.target.client, this.target.bucket, this.target.marker);
  }
}
