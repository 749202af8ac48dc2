import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import type { AppenderCheckpoint, BlobAppender, BlobWriter } from "../../core/ports/blob-store.js";
import { type AppenderTarget, S3BlobAppender } from "./s3-blob-appender.js";
import type { MaintainedBlobStore, StoredBlob, UnfinishedUpload } from "./blob-inventory.js";
import { isProcessAlive } from "../../process-alive.js";
import { ignoreGone, isNotFound, storeFailure } from "./s3-errors.js";
import { MultipartWriter } from "./s3-multipart-writer.js";
import { DEFAULT_PART_PLAN, type PartPlan } from "./s3-part-plan.js";
import { abortMarked, multipartUploads, putMarker, readMarker } from "./s3-pending-markers.js";

export interface S3BlobStoreOptions {
  bucket: string;
  /** Prepended to every object key ("" or ending in "/"). */
  prefix: string;
  /** How blobs are cut into parts (s3-part-plan.ts); the defaults fit 4 TiB in 10,000 parts. */
  parts?: Partial<PartPlan>;
  /** Where parts too large for memory wait for their upload; a directory of this node's own. */
  spoolDir?: string;
}

/**
 * Blobs as objects in an S3 bucket:
 *
 *   <prefix>blobs/<key>                    a committed blob
 *   <prefix>pending/<tag>/<random>         a marker per live writer (s3-pending-markers.ts)
 *
 * A writer streams the parts of a multipart upload (s3-multipart-writer.ts); the object appears
 * only when commit completes the upload.
 */
export class S3BlobStore implements MaintainedBlobStore {
  private readonly plan: PartPlan;
  private readonly spoolDir: string;

  constructor(
    private readonly client: S3Client,
    private readonly options: S3BlobStoreOptions,
  ) {
    this.plan = { ...DEFAULT_PART_PLAN, ...options.parts };
    this.spoolDir = options.spoolDir ?? path.join(os.tmpdir(), "vitrine-s3-spool");
  }

  /** Makes the spool directory and removes the parts dead processes left in it. */
  async init(): Promise<this> {
    await fsp.mkdir(this.spoolDir, { recursive: true, mode: 0o700 });
    for (const name of await fsp.readdir(this.spoolDir)) {
      const pid = Number(/^(\d+)-/.exec(name)?.[1]);
      if (!isProcessAlive(pid)) await fsp.rm(path.join(this.spoolDir, name), { force: true });
    }
    return this;
  }

  private objectKey(key: string): string {
    return `${this.options.prefix}blobs/${key}`;
  }

  inventoryName(key: string): string {
    return key;
  }

  async *inventory(): AsyncIterable<StoredBlob> {
    const prefix = this.objectKey("");
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (o.Key)
          yield {
            name: o.Key.slice(prefix.length),
            size: o.Size ?? 0,
            modifiedAt: o.LastModified?.getTime() ?? 0,
          };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async deleteByInventoryName(name: string): Promise<void> {
    await this.delete(name);
  }

  private pendingPrefix(tag?: string): string {
    return `${this.options.prefix}pending/${tag === undefined ? "" : `${tag}/`}`;
  }

  async createWriter(key: string, tag: string): Promise<BlobWriter> {
    if (!/^[A-Za-z0-9_-]+$/.test(tag)) throw new Error(`invalid pending tag ${tag}`);
    const marker = `${this.pendingPrefix(tag)}${randomBytes(6).toString("hex")}`;
    await putMarker(this.client, this.options.bucket, marker, { key: this.objectKey(key), uploadId: null });
    return new MultipartWriter({
      client: this.client,
      bucket: this.options.bucket,
      key: this.objectKey(key),
      marker,
      plan: this.plan,
      spoolDir: this.spoolDir,
    });
  }

  async createAppender(key: string, tag: string, expectedBytes: number): Promise<BlobAppender> {
    if (!/^[A-Za-z0-9_-]+$/.test(tag)) throw new Error(`invalid pending tag ${tag}`);
    const marker = `${this.pendingPrefix(tag)}${randomBytes(6).toString("hex")}`;
    return S3BlobAppender.create(this.appenderTarget(tag), this.objectKey(key), marker, expectedBytes);
  }

  async resumeAppender(checkpoint: AppenderCheckpoint): Promise<BlobAppender> {
    const marker = String(checkpoint.store.marker);
    const tag = marker.slice(this.pendingPrefix().length).split("/")[0]!;
    return S3BlobAppender.resume(this.appenderTarget(tag), checkpoint);
  }

  private appenderTarget(tag: string): AppenderTarget {
    return {
      client: this.client,
      bucket: this.options.bucket,
      tailPrefix: this.tailPrefix(tag),
      minPartBytes: this.plan.firstPartBytes,
    };
  }

  /** Where resumable uploads keep the bytes a request ended with short of a part (s3-blob-appender.ts). */
  private tailPrefix(tag: string): string {
    return `${this.options.prefix}pending-tails/${tag}/`;
  }

  async read(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const res = await this.client.send(
      new GetObjectCommand({
        Bucket: this.options.bucket,
        Key: this.objectKey(key),
        ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
      }),
    );
    if (!(res.Body instanceof Readable)) throw new Error(`no body for blob ${key}`);
    return res.Body;
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const res = await this.client.send(
        new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }),
      );
      return { size: res.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(
      new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }),
    );
  }

  async discardPending(tag: string): Promise<void> {
    for (const marker of await this.listKeys(this.pendingPrefix(tag))) {
      await abortMarked(this.client, this.options.bucket, marker);
    }
    for (const tail of await this.listKeys(this.tailPrefix(tag))) {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: tail }));
    }
  }

  async *unfinishedUploads(): AsyncIterable<UnfinishedUpload> {
    // Live writers name their keys in markers, written before their uploads start.
    const claimed = new Set<string>();
    for (const marker of await this.listKeys(this.pendingPrefix())) {
      const content = await readMarker(this.client, this.options.bucket, marker);
      if (content) claimed.add(content.key);
    }
    for await (const u of multipartUploads(this.client, this.options.bucket, this.objectKey(""))) {
      yield {
        name: `${u.key}?uploadId=${u.uploadId}`,
        startedAt: u.initiatedAt,
        claimed: claimed.has(u.key),
      };
    }
  }

  async abortUnfinished(name: string): Promise<void> {
    const at = name.lastIndexOf("?uploadId=");
    if (at < 0) throw new Error(`not an unfinished upload of this store: ${name}`);
    await this.client
      .send(
        new AbortMultipartUploadCommand({
          Bucket: this.options.bucket,
          Key: name.slice(0, at),
          UploadId: name.slice(at + "?uploadId=".length),
        }),
      )
      .catch(ignoreGone);
  }

  async listPendingTags(): Promise<string[]> {
    const prefix = this.pendingPrefix();
    const tags = new Set<string>();
    for (const key of await this.listKeys(prefix)) tags.add(key.slice(prefix.length).split("/")[0]!);
    return [...tags];
  }

  identity(): string {
    return `s3://${this.options.bucket}/${this.options.prefix}`;
  }

  locationOf(key: string): string {
    return `s3://${this.options.bucket}/${this.objectKey(key)}`;
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.options.bucket }));
  }

  private async listKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }
}

/** An S3 client for an S3-compatible server; credentials come from the AWS environment/credential chain. */
export function s3Client(opts: {
  endpoint: string | null;
  region: string;
  forcePathStyle: boolean;
}): S3Client {
  const client = new S3Client({
    region: opts.region,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    forcePathStyle: opts.forcePathStyle,
    // Checksums only where S3 requires them: some S3-compatible servers (Swift's s3api) refuse
    // the newer default checksum headers, and computing them would buffer streamed bodies.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    // S3 asks clients to slow down with 503s; a few more patient attempts than the SDK's 3.
    maxAttempts: 5,
    // Silent like the SDK's default logger, which it replaces because with the default the SDK
    // warns on the console when a streamed body cannot be retried (the writer retries those).
    logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  // Outermost, so after the SDK's own retries: an unreachable or failing store is UNAVAILABLE.
  client.middlewareStack.add((next) => (args) => next(args).catch(storeFailure), {
    step: "initialize",
    name: "vitrineStoreFailure",
  });
  return client;
}
