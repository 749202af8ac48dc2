import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import type { AppenderCheckpoint, BlobAppender } from "../../core/ports/blob-store.js";
import { ignoreGone } from "./s3-errors.js";
import { MAX_PARTS } from "./s3-part-plan.js";
import { deleteMarker, putMarker } from "./s3-pending-markers.js";

const MIB = 1024 * 1024;
/** Parts a resumable upload may use, leaving S3's last thousand spare. */
const PLANNED_PARTS = MAX_PARTS - 1000;

/** An S3 store's checkpoint: the multipart upload, its committed parts, and the bytes after them. */
interface S3AppenderState {
  key: string;
  marker: string;
  uploadId: string;
  partBytes: number;
  parts: { PartNumber: number; ETag: string }[];
  /** Bytes after the last part, kept as an object of their own (a request ended mid-part). */
  tail: { key: string; bytes: number } | null;
}

export interface AppenderTarget {
  client: S3Client;
  bucket: string;
  /** Where this upload's tails are written: `<prefix>pending-tails/<tag>/`. */
  tailPrefix: string;
  /** The smallest part (the part plan's first part size). */
  minPartBytes: number;
}

/**
 * A resumable upload's blob as one multipart upload: every part is a checkpoint (S3 keeps
 * uploaded parts until the upload is completed or aborted), parts are the same size for the
 * whole upload (so a checkpoint is a part boundary), and the bytes a request ended with, short
 * of a part, are written as a tail object that the next request starts its part from. Parts
 * upload one at a time while the next fills (memory: two parts).
 */
export class S3BlobAppender implements BlobAppender {
  private filling: Buffer[] = [];
  private fillingBytes = 0;
  private position: number;
  private uploading: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  /** Tails written by this upload's requests: removed once the blob is committed. */
  private readonly tails = new Set<string>();

  private constructor(
    private readonly target: AppenderTarget,
    private readonly state: S3AppenderState,
  ) {
    this.position = state.parts.length * state.partBytes + (state.tail?.bytes ?? 0);
    if (state.tail) this.tails.add(state.tail.key);
  }

  static async create(
    target: AppenderTarget,
    objectKey: string,
    marker: string,
    expectedBytes: number,
  ): Promise<S3BlobAppender> {
    const res = await target.client.send(
      new CreateMultipartUploadCommand({ Bucket: target.bucket, Key: objectKey }),
    );
    const uploadId = res.UploadId!;
    await putMarker(target.client, target.bucket, marker, { key: objectKey, uploadId });
    const partBytes = Math.max(target.minPartBytes, Math.ceil(expectedBytes / PLANNED_PARTS / MIB) * MIB);
    return new S3BlobAppender(target, { key: objectKey, marker, uploadId, partBytes, parts: [], tail: null });
  }

  static async resume(target: AppenderTarget, checkpoint: AppenderCheckpoint): Promise<S3BlobAppender> {
    const state = checkpoint.store as unknown as S3AppenderState;
    const appender = new S3BlobAppender(target, { ...state, parts: [...state.parts] });
    if (appender.position !== checkpoint.offset) throw new Error("the checkpoint does not add up");
    if (state.tail) {
      const res = await target.client.send(
        new GetObjectCommand({ Bucket: target.bucket, Key: state.tail.key }),
      );
      const tail = Buffer.from(await res.Body!.transformToByteArray());
      if (tail.length !== state.tail.bytes)
        throw new Error("the tail of the checkpoint is not the one written");
      appender.filling = [tail];
      appender.fillingBytes = tail.length;
    }
    return appender;
  }

  get offset(): number {
    return this.position;
  }

  get checkpointBytes(): number {
    return this.state.partBytes;
  }

  async append(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    let rest = chunk;
    while (rest.length > 0) {
      const room = this.state.partBytes - this.fillingBytes;
      const piece = rest.subarray(0, room);
      this.filling.push(piece);
      this.fillingBytes += piece.length;
      this.position += piece.length;
      rest = rest.subarray(piece.length);
      if (this.fillingBytes === this.state.partBytes) {
        // One part uploads while the next fills: wait for the one before it first.
        await this.uploading;
        if (this.failure) throw this.failure;
        this.sendFilling();
      }
    }
  }

  private sendFilling(): void {
    const body = Buffer.concat(this.filling);
    this.filling = [];
    this.fillingBytes = 0;
    const partNumber = this.state.parts.length + 1;
    const part = { PartNumber: partNumber, ETag: "" };
    this.state.parts.push(part);
    this.uploading = this.target.client
      .send(
        new UploadPartCommand({
          Bucket: this.target.bucket,
          Key: this.state.key,
          UploadId: this.state.uploadId,
          PartNumber: partNumber,
          Body: body,
          ContentLength: body.length,
        }),
      )
      .then((res) => {
        part.ETag = res.ETag!;
      })
      .catch((err: unknown) => {
        this.failure ??= err;
      });
  }

  async sync(): Promise<AppenderCheckpoint> {
    // What is appended from here on is not part of this checkpoint.
    const offset = this.position;
    const parts = [...this.state.parts];
    const filling = this.filling.slice();
    const fillingBytes = this.fillingBytes;
    await this.uploading;
    if (this.failure) throw this.failure;
    let tail: S3AppenderState["tail"] = null;
    if (fillingBytes > 0) {
      const key = `${this.target.tailPrefix}${this.state.uploadId.replace(/[^A-Za-z0-9_-]/g, "")}-${offset}`;
      await this.target.client.send(
        new PutObjectCommand({ Bucket: this.target.bucket, Key: key, Body: Buffer.concat(filling) }),
      );
      this.tails.add(key);
      tail = { key, bytes: fillingBytes };
    }
    const store: S3AppenderState = { ...this.state, parts: parts.map((p) => ({ ...p })), tail };
    return { offset, store: store as unknown as Record<string, unknown> };
  }

  async commit(): Promise<void> {
    if (this.fillingBytes > 0 || this.state.parts.length === 0) {
      await this.uploading;
      this.sendFilling();
    }
    await this.uploading;
    if (this.failure) throw this.failure;
    const { client, bucket } = this.target;
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: this.state.key,
        UploadId: this.state.uploadId,
        MultipartUpload: { Parts: this.state.parts },
      }),
    );
    for (const key of this.tails) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(ignoreGone);
    }
    await deleteMarker(client, bucket, this.state.marker);
  }

  async close(): Promise<void> {
    await this.uploading;
    this.filling = [];
    this.fillingBytes = 0;
  }
}
