import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import { Readable, Writable } from "node:stream";
import { VitrineError } from "../../core/errors.js";
import type { BlobStore, BlobWriter } from "../../core/ports/blob-store.js";

export interface S3BlobStoreOptions {
  bucket: string;
  /** Prepended to every object key ("" or ending in "/"). */
  prefix: string;
  /** The first parts' size; it doubles every 1,000 parts, up to `maxPartBytes`. */
  partBytes?: number;
  maxPartBytes?: number;
  /** Parts uploading at once: memory is about (this + 1) parts. */
  partsInFlight?: number;
}

const MIB = 1024 * 1024;

/**
 * Blobs as objects in an S3 bucket:
 *
 *   <prefix>blobs/<key>                    a committed blob
 *   <prefix>pending/<tag>/<random>         a marker per live writer: {"key", "uploadId"} of its
 *                                          multipart upload once it started, so that pending data
 *                                          can be found by tag and aborted (S3 lists uploads by
 *                                          object key only)
 *
 * A writer streams parts of a multipart upload (a few in flight, memory bounded by them); the
 * object appears only when commit completes the upload. A blob smaller than one part is kept in
 * memory and written with one PUT at commit.
 */
export class S3BlobStore implements BlobStore {
  private readonly partBytes: number;
  private readonly maxPartBytes: number;
  private readonly partsInFlight: number;

  constructor(
    private readonly client: S3Client,
    private readonly options: S3BlobStoreOptions,
  ) {
    this.partBytes = options.partBytes ?? 8 * MIB;
    this.maxPartBytes = options.maxPartBytes ?? 64 * MIB;
    this.partsInFlight = options.partsInFlight ?? 2;
  }

  private objectKey(key: string): string {
    return `${this.options.prefix}blobs/${key}`;
  }

  private pendingPrefix(tag?: string): string {
    return `${this.options.prefix}pending/${tag === undefined ? "" : `${tag}/`}`;
  }

  async createWriter(key: string, tag: string): Promise<BlobWriter> {
    if (!/^[A-Za-z0-9_-]+$/.test(tag)) throw new Error(`invalid pending tag ${tag}`);
    const marker = `${this.pendingPrefix(tag)}${randomBytes(6).toString("hex")}`;
    await putMarker(this.client, this.options.bucket, marker, { key: this.objectKey(key), uploadId: null });
    return new MultipartWriter(this.client, this.options.bucket, this.objectKey(key), {
      marker,
      partBytes: this.partBytes,
      maxPartBytes: this.maxPartBytes,
      partsInFlight: this.partsInFlight,
    });
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
  }

  async listPendingTags(): Promise<string[]> {
    const prefix = this.pendingPrefix();
    const tags = new Set<string>();
    for (const key of await this.listKeys(prefix)) tags.add(key.slice(prefix.length).split("/")[0]!);
    return [...tags];
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

interface Marker {
  key: string;
  uploadId: string | null;
}

function putMarker(client: S3Client, bucket: string, marker: string, content: Marker): Promise<unknown> {
  return client.send(new PutObjectCommand({ Bucket: bucket, Key: marker, Body: JSON.stringify(content) }));
}

/** Aborts the multipart upload a marker names (if one started and still runs) and removes the marker. */
async function abortMarked(client: S3Client, bucket: string, marker: string): Promise<void> {
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: marker }));
    const { key, uploadId } = JSON.parse(await res.Body!.transformToString()) as Marker;
    if (uploadId !== null) {
      await client
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
        .catch(ignoreGone);
    }
  } catch (err) {
    ignoreGone(err);
  }
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: marker }));
}

interface WriterOptions {
  marker: string;
  partBytes: number;
  maxPartBytes: number;
  partsInFlight: number;
}

class MultipartWriter implements BlobWriter {
  readonly stream: Writable;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private uploadId: string | null = null;
  private readonly parts: { PartNumber: number; ETag: string }[] = [];
  private nextPart = 1;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown = null;
  private settled = false;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    private readonly opts: WriterOptions,
  ) {
    this.stream = new Writable({
      highWaterMark: opts.partBytes,
      write: (chunk: Buffer, _encoding, done) => {
        this.chunks.push(chunk);
        this.buffered += chunk.length;
        if (this.buffered < this.partSize()) return done();
        this.sendPart().then(() => done(), done);
      },
      final: (done) => {
        Promise.all(this.inFlight).then(() => done(this.failure as Error | null), done);
      },
    });
  }

  /** Parts double in size every 1,000 (10,000 parts reach far), never past the maximum. */
  private partSize(): number {
    return Math.min(
      this.opts.maxPartBytes,
      this.opts.partBytes * 2 ** Math.floor((this.nextPart - 1) / 1000),
    );
  }

  /** Starts uploading the buffered bytes as the next part; waits while too many are in flight. */
  private async sendPart(): Promise<void> {
    if (this.failure) throw this.failure;
    const body = Buffer.concat(this.chunks);
    this.chunks = [];
    this.buffered = 0;
    const uploadId = this.uploadId ?? (await this.start());
    const partNumber = this.nextPart++;
    const upload = this.client
      .send(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: this.key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: body,
        }),
      )
      .then((res) => {
        this.parts.push({ PartNumber: partNumber, ETag: res.ETag! });
      })
      .catch((err: unknown) => {
        this.failure ??= err;
      })
      .finally(() => this.inFlight.delete(upload));
    this.inFlight.add(upload);
    while (this.inFlight.size >= this.opts.partsInFlight) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  private async start(): Promise<string> {
    const res = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.key }),
    );
    this.uploadId = res.UploadId!;
    // Recorded before any part, so that after a crash GC can abort the upload.
    await putMarker(this.client, this.bucket, this.opts.marker, { key: this.key, uploadId: this.uploadId });
    return this.uploadId;
  }

  async commit(): Promise<void> {
    if (this.failure) throw this.failure;
    const body = Buffer.concat(this.chunks);
    this.chunks = [];
    if (this.uploadId === null) {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key, Body: body }));
    } else {
      if (body.length > 0) {
        this.chunks = [body];
        await this.sendPart();
      }
      await Promise.all(this.inFlight);
      if (this.failure) throw this.failure;
      const parts = [...this.parts].sort((a, b) => a.PartNumber - b.PartNumber);
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.key,
          UploadId: this.uploadId,
          MultipartUpload: { Parts: parts },
        }),
      );
    }
    this.settled = true;
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.opts.marker }));
  }

  async abort(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    this.chunks = [];
    this.stream.on("error", () => {});
    this.stream.destroy();
    await Promise.all(this.inFlight);
    await abortMarked(this.client, this.bucket, this.opts.marker);
  }
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === "NotFound" || e.name === "NoSuchKey" || e.$metadata?.httpStatusCode === 404;
}

/**
 * The store unreachable or failing (the SDK already retried): UNAVAILABLE for the caller, with the
 * cause kept for the log; anything else (a missing blob, refused credentials) is rethrown as is.
 */
function storeFailure(err: unknown): never {
  const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status === undefined || status >= 500) {
    throw Object.assign(new VitrineError("UNAVAILABLE", "The image store is unavailable; retry later"), {
      cause: err,
    });
  }
  throw err;
}

function ignoreGone(err: unknown): void {
  const name = (err as { name?: string }).name;
  if (!isNotFound(err) && name !== "NoSuchUpload") throw err;
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
  });
  // Outermost, so after the SDK's own retries: an unreachable or failing store is UNAVAILABLE.
  client.middlewareStack.add((next) => (args) => next(args).catch(storeFailure), {
    step: "initialize",
    name: "vitrineStoreFailure",
  });
  return client;
}
